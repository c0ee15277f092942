// Scratch space for reinterpreting float32 bits. Float32Array and Uint32Array over one buffer share the
// host byte order, so the reinterpretation is correct on any host.
const scratchBuffer = new ArrayBuffer(4);
const scratchFloat = new Float32Array(scratchBuffer);
const scratchBits = new Uint32Array(scratchBuffer);

function float32Bits(value: number): number {
  scratchFloat[0] = value;
  return scratchBits[0]!;
}

function bitsToFloat32(bits: number): number {
  scratchBits[0] = bits;
  return scratchFloat[0]!;
}

/** Shifts `mantissa` right by `shift` (1..31) bits, rounding to nearest, ties to even. */
function shiftRoundEven(mantissa: number, shift: number): number {
  const kept = mantissa >>> shift;
  const remainder = mantissa & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return remainder > half || (remainder === half && (kept & 1) === 1) ? kept + 1 : kept;
}

/**
 * Decodes an IEEE 754 binary16 bit pattern (`0..0xffff`) to its exact value.
 *
 * Subnormals, signed zeros and infinities are exact; every NaN pattern decodes to `NaN`.
 */
export function float16BitsToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (mantissa + 0x400) * 2 ** (exponent - 25);
}

/**
 * Encodes `value` as an IEEE 754 binary16 bit pattern.
 *
 * `value` is first rounded to float32 (`Math.fround`), then to binary16 with round-to-nearest-even. Values at or
 * beyond 65520 in magnitude become ±Infinity, values too small for the smallest subnormal become ±0, NaN becomes
 * a quiet NaN keeping the top mantissa bits.
 */
export function float32ToFloat16Bits(value: number): number {
  const bits = float32Bits(value);
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return mantissa === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mantissa >>> 13);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    // Subnormal (or zero) in binary16; a carry out of the mantissa correctly yields the smallest normal.
    if (halfExponent < -10) return sign;
    return sign | shiftRoundEven(mantissa | 0x800000, 14 - halfExponent);
  }
  // A carry out of the mantissa bumps the exponent, up to 0x7c00 (Infinity), which is the correct rounding.
  return (
    sign | (((halfExponent << 10) | (mantissa >>> 13)) + roundIncrement(mantissa & 0x1fff, mantissa >>> 13))
  );
}

function roundIncrement(dropped: number, kept: number): number {
  return dropped > 0x1000 || (dropped === 0x1000 && (kept & 1) === 1) ? 1 : 0;
}

/** Decodes a bfloat16 bit pattern (`0..0xffff`) to its exact value (the top half of a float32). */
export function bfloat16BitsToFloat32(bits: number): number {
  return bitsToFloat32((bits & 0xffff) << 16);
}

/**
 * Encodes `value` as a bfloat16 bit pattern.
 *
 * `value` is first rounded to float32 (`Math.fround`), then its low 16 bits are dropped with
 * round-to-nearest-even (as PyTorch does). NaN becomes a quiet NaN of the same sign.
 */
export function float32ToBfloat16Bits(value: number): number {
  const bits = float32Bits(value);
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x7fffff) !== 0) return (bits >>> 16) | 0x0040;
  // Below 2^32 for every non-NaN pattern, so `>>>` does not wrap.
  return (bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16;
}
