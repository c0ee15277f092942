/**
 * Element types of the safetensors format that this codec supports.
 *
 * `F16` and `BF16` are stored as raw 16-bit patterns (see {@link float16BitsToFloat32} and
 * {@link bfloat16BitsToFloat32}); `BOOL` is one byte per element.
 */
export type SafetensorsDtype =
  | "BOOL"
  | "U8"
  | "I8"
  | "I16"
  | "U16"
  | "I32"
  | "U32"
  | "I64"
  | "U64"
  | "F16"
  | "BF16"
  | "F32"
  | "F64";

/**
 * The typed arrays a {@link SafetensorsTensor} can hold. Which one a tensor holds is fixed by its dtype:
 * `BOOL`/`U8` → `Uint8Array`, `I8` → `Int8Array`, `I16` → `Int16Array`, `U16`/`F16`/`BF16` → `Uint16Array`,
 * `I32` → `Int32Array`, `U32` → `Uint32Array`, `I64` → `BigInt64Array`, `U64` → `BigUint64Array`,
 * `F32` → `Float32Array`, `F64` → `Float64Array`.
 */
export type SafetensorsTypedArray =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

interface DtypeInfo {
  /** Bytes per element. */
  readonly size: number;
  /** Rank in the reference implementation's `Dtype` enum (increasing alignment), used to order the data buffer. */
  readonly rank: number;
  /** `Symbol.toStringTag` of the typed array that holds this dtype. */
  readonly arrayName: string;
  /** Builds the typed array over an aligned buffer. */
  readonly view: (buffer: ArrayBuffer, length: number) => SafetensorsTypedArray;
}

// Ranks follow the order of huggingface/safetensors `enum Dtype` (BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, U16,
// F16, BF16, I32, U32, F32, F64, I64, U64); the FP8 types are not supported here, so ranks 3 and 4 are unused.
const DTYPES: Readonly<Record<SafetensorsDtype, DtypeInfo>> = {
  BOOL: { size: 1, rank: 0, arrayName: "Uint8Array", view: (b, n) => new Uint8Array(b, 0, n) },
  U8: { size: 1, rank: 1, arrayName: "Uint8Array", view: (b, n) => new Uint8Array(b, 0, n) },
  I8: { size: 1, rank: 2, arrayName: "Int8Array", view: (b, n) => new Int8Array(b, 0, n) },
  I16: { size: 2, rank: 5, arrayName: "Int16Array", view: (b, n) => new Int16Array(b, 0, n) },
  U16: { size: 2, rank: 6, arrayName: "Uint16Array", view: (b, n) => new Uint16Array(b, 0, n) },
  F16: { size: 2, rank: 7, arrayName: "Uint16Array", view: (b, n) => new Uint16Array(b, 0, n) },
  BF16: { size: 2, rank: 8, arrayName: "Uint16Array", view: (b, n) => new Uint16Array(b, 0, n) },
  I32: { size: 4, rank: 9, arrayName: "Int32Array", view: (b, n) => new Int32Array(b, 0, n) },
  U32: { size: 4, rank: 10, arrayName: "Uint32Array", view: (b, n) => new Uint32Array(b, 0, n) },
  F32: { size: 4, rank: 11, arrayName: "Float32Array", view: (b, n) => new Float32Array(b, 0, n) },
  F64: { size: 8, rank: 12, arrayName: "Float64Array", view: (b, n) => new Float64Array(b, 0, n) },
  I64: { size: 8, rank: 13, arrayName: "BigInt64Array", view: (b, n) => new BigInt64Array(b, 0, n) },
  U64: { size: 8, rank: 14, arrayName: "BigUint64Array", view: (b, n) => new BigUint64Array(b, 0, n) },
};

/** True when `value` is one of the {@link SafetensorsDtype} names (case-sensitive, as in the format). */
export function isSafetensorsDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === "string" && Object.hasOwn(DTYPES, value);
}

/** Bytes per element of `dtype` (`BOOL` is 1). */
export function safetensorsDtypeByteSize(dtype: SafetensorsDtype): number {
  return DTYPES[dtype].size;
}

/** @internal Position of `dtype` in the reference implementation's alignment order. */
export function dtypeRank(dtype: SafetensorsDtype): number {
  return DTYPES[dtype].rank;
}

/** @internal True when `data` is the typed array `dtype` is held in (checked by tag, so it works across realms). */
export function holdsDtype(data: unknown, dtype: SafetensorsDtype): boolean {
  return (
    ArrayBuffer.isView(data) &&
    (data as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === DTYPES[dtype].arrayName
  );
}

/** @internal The typed-array name `dtype` is held in, for error messages. */
export function arrayNameOf(dtype: SafetensorsDtype): string {
  return DTYPES[dtype].arrayName;
}

/** @internal Views `length` elements of `dtype` at the start of `buffer` (which must be suitably aligned). */
export function viewAs(dtype: SafetensorsDtype, buffer: ArrayBuffer, length: number): SafetensorsTypedArray {
  return DTYPES[dtype].view(buffer, length);
}
