/** @internal True when typed arrays on this host are little-endian (safetensors data always is). */
export const hostIsLittleEndian: boolean = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * @internal Reverses the byte order of every `elementSize`-byte element of `bytes`, in place.
 *
 * Used on big-endian hosts only, to convert between the file's little-endian data and native typed arrays.
 */
export function swapByteOrderInPlace(bytes: Uint8Array, elementSize: number): void {
  if (elementSize === 1) return;
  for (let start = 0; start + elementSize <= bytes.length; start += elementSize) {
    for (let low = start, high = start + elementSize - 1; low < high; low++, high--) {
      const byte = bytes[low]!;
      bytes[low] = bytes[high]!;
      bytes[high] = byte;
    }
  }
}
