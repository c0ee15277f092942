import { describe, expect, it } from "vitest";
import { KoraError } from "../errors";
import { float32ToFloat16Bits } from "../safetensors/float-conversion";
import { readNpy } from "./read-npy";

/** Writes a .npy file exactly as numpy's format version 1.0 does (header padded to 64 bytes, ending in \n). */
function npy(
  descr: string,
  shape: number[],
  data: ArrayBufferView,
  fortran = false,
  version = 1,
): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran ? "True" : "False"}, 'shape': ${shapeText}, }`;
  const prefix = version === 1 ? 10 : 12;
  const total = Math.ceil((prefix + header.length + 1) / 64) * 64;
  header = `${header}${" ".repeat(total - prefix - header.length - 1)}\n`;
  const bytes = new Uint8Array(total + data.byteLength);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(bytes.buffer);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  bytes.set(new TextEncoder().encode(header), prefix);
  bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), total);
  return bytes;
}

function errorOf(fn: () => unknown): KoraError {
  try {
    fn();
  } catch (error) {
    if (KoraError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected a KoraError");
}

describe("readNpy", () => {
  it("reads float32 C-order arrays with their shape", () => {
    const data = Float32Array.from({ length: 6 }, (_, i) => i * 0.5 - 1);
    const array = readNpy(npy("<f4", [2, 3], data));
    expect(array.shape).toEqual([2, 3]);
    expect(array.data).toBeInstanceOf(Float32Array);
    expect([...array.data]).toEqual([...data]);
  });

  it("reorders Fortran-order data to C order", () => {
    // The 2×3 matrix [[0, 1, 2], [3, 4, 5]] stored column by column.
    const fortran = new Float64Array([0, 3, 1, 4, 2, 5]);
    const array = readNpy(npy("<f8", [2, 3], fortran, true, 2));
    expect([...array.data]).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("widens float16, integers and bools", () => {
    const half = Uint16Array.from([1.5, -2, 65504].map(float32ToFloat16Bits));
    expect([...readNpy(npy("<f2", [3], half)).data]).toEqual([1.5, -2, 65504]);
    expect([...readNpy(npy("<i8", [2], new BigInt64Array([-5n, 7n]))).data]).toEqual([-5, 7]);
    expect([...readNpy(npy("|u1", [3], new Uint8Array([0, 128, 255]))).data]).toEqual([0, 128, 255]);
    expect([...readNpy(npy("|b1", [2], new Uint8Array([1, 0]))).data]).toEqual([1, 0]);
  });

  it.each([
    ["not numpy", new Uint8Array(16), /no \\x93NUMPY magic/],
    [
      "truncated data",
      npy("<f4", [4], new Float32Array(4)).slice(0, -10),
      /holds 6 data bytes, its header promises 16/,
    ],
    ["truncated header", npy("<f4", [4], new Float32Array(4)).slice(0, 40), /truncated header/],
    ["big-endian", npy(">f4", [1], new Float32Array(1)), /big-endian/],
    ["strings", npy("<U3", [1], new Uint8Array(12)), /not supported/],
    [
      "version 9",
      (() => {
        const b = npy("<f4", [1], new Float32Array(1));
        b[6] = 9;
        return b;
      })(),
      /format version 9/,
    ],
  ])("rejects %s with INVALID_NPY naming the file", (_, bytes, message) => {
    const error = errorOf(() => readNpy(bytes, "feats.npy"));
    expect(error.code).toBe("INVALID_NPY");
    expect(error.message).toMatch(/^feats\.npy: /);
    expect(error.message).toMatch(message);
  });
});
