import { KoraError } from "../errors";
import type { SpecErrorCode } from "../errors/kora-error";
import {
  arrayNameOf,
  holdsDtype,
  isSafetensorsDtype,
  type SafetensorsDtype,
  type SafetensorsTypedArray,
} from "./dtypes";
import { bfloat16BitsToFloat32, float16BitsToFloat32 } from "./float-conversion";

/**
 * Converts a tensor's elements to a new `Float32Array` (never the tensor's own array, even for `F32`).
 *
 * - `F16` / `BF16`: exact (every binary16 and bfloat16 value is a float32), including subnormals, ±Infinity, NaN.
 * - `F64`: rounded to nearest, ties to even (as `Math.fround`); out-of-range values become ±Infinity.
 * - Integers and `BOOL`: rounded to the nearest float32 (exact up to 2^24 in magnitude). `I64`/`U64` go through
 *   float64 first, so magnitudes above 2^53 may round twice.
 *
 * @throws KoraError `INVALID_ARGUMENT` when `dtype` is unknown or `data` is not the typed array `dtype` needs.
 */
export function toFloat32(tensor: { dtype: SafetensorsDtype; data: SafetensorsTypedArray }): Float32Array {
  const { dtype, data } = tensor;
  if (!isSafetensorsDtype(dtype)) {
    throw new KoraError<SpecErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `toFloat32: unknown dtype ${String(dtype)}`,
    });
  }
  if (!holdsDtype(data, dtype)) {
    throw new KoraError<SpecErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `toFloat32: a ${dtype} tensor must hold a ${arrayNameOf(dtype)}`,
    });
  }
  const out = new Float32Array(data.length);
  if (dtype === "F16" || dtype === "BF16") {
    const decode = dtype === "F16" ? float16BitsToFloat32 : bfloat16BitsToFloat32;
    const bits = data as Uint16Array;
    for (let i = 0; i < bits.length; i++) out[i] = decode(bits[i]!);
  } else if (dtype === "I64" || dtype === "U64") {
    const big = data as BigInt64Array | BigUint64Array;
    for (let i = 0; i < big.length; i++) out[i] = Number(big[i]!);
  } else {
    // Storing into a Float32Array rounds each element to nearest, ties to even.
    out.set(data as Exclude<SafetensorsTypedArray, BigInt64Array | BigUint64Array>);
  }
  return out;
}
