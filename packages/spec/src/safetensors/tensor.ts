import type { SafetensorsDtype, SafetensorsTypedArray } from "./dtypes";

/** One tensor of a safetensors file, row-major (C order), with its elements in a native typed array. */
export interface SafetensorsTensor {
  /** Element type of `data`. After `readSafetensors(bytes, { asFloat32: true })`, converted tensors say `"F32"`. */
  dtype: SafetensorsDtype;
  /** Dimensions, outermost first; `[]` is a scalar (one element), a `0` anywhere means no elements. */
  shape: number[];
  /**
   * Elements, in the typed array fixed by `dtype` (see {@link SafetensorsTypedArray}); `F16`/`BF16` hold raw bits
   * in a `Uint16Array`. Arrays returned by `readSafetensors` own their buffer: they never alias the input bytes.
   */
  data: SafetensorsTypedArray;
  /**
   * Set only by `readSafetensors(bytes, { asFloat32: true })` on a tensor it converted: the dtype stored in the
   * file (`"F16"`, `"BF16"` or `"F64"`). Absent otherwise.
   */
  sourceDtype?: SafetensorsDtype;
}

/** What {@link writeSafetensors} accepts for one tensor (a {@link SafetensorsTensor} qualifies). */
export interface SafetensorsTensorInput {
  /** Element type to store; must match the typed array of `data` (e.g. `"F16"` needs a `Uint16Array` of bits). */
  dtype: SafetensorsDtype;
  /** Dimensions, outermost first; their product must equal `data.length`. */
  shape: readonly number[];
  /** Elements in row-major order, in the typed array fixed by `dtype`. */
  data: SafetensorsTypedArray;
}

/** The decoded content of a safetensors file. */
export interface SafetensorsContents {
  /**
   * Tensors by name. A null-prototype object, so a tensor named `__proto__` is an ordinary entry; key order is
   * not significant.
   */
  tensors: Record<string, SafetensorsTensor>;
  /** The header's `__metadata__` string map (empty when absent); also a null-prototype object. */
  metadata: Record<string, string>;
}
