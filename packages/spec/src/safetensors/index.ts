export type { SafetensorsDtype, SafetensorsTypedArray } from "./dtypes";
export { isSafetensorsDtype, safetensorsDtypeByteSize } from "./dtypes";
export {
  bfloat16BitsToFloat32,
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  float32ToFloat16Bits,
} from "./float-conversion";
export type { ReadSafetensorsOptions } from "./read";
export { DEFAULT_MAX_SAFETENSORS_HEADER_BYTES, MAX_SAFETENSORS_HEADER_BYTES, readSafetensors } from "./read";
export type { SafetensorsContents, SafetensorsTensor, SafetensorsTensorInput } from "./tensor";
export { toFloat32 } from "./to-float32";
export { writeSafetensors } from "./write";
