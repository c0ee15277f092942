export type {
  AdapterFile,
  AdapterTensor,
  DecodeAdapterInput,
  EncodeAdapterInput,
  EncodedAdapter,
} from "./adapter-file";
export { decodeAdapter, encodeAdapter, validateAdapterTensors } from "./adapter-file";
export type { AdapterManifest } from "./manifest";
export {
  ADAPTER_FILES,
  ADAPTER_FORMAT,
  ADAPTER_FORMAT_VERSION,
  MAX_ADAPTER_MANIFEST_BYTES,
} from "./manifest";
