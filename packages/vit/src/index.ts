/**
 * `@kora/vit`: a TensorFlow.js Vision Transformer that loads Hugging Face and timm weights exactly, trains on the
 * wasm backend, and exposes the `@kora/tfjs` adapter sites, feature taps, presets and preprocessing.
 * @packageDocumentation
 */

export type { ViTPresetName } from "./config/presets";
export { VIT_PRESETS } from "./config/presets";
export type { ViTConfig, ViTConfigInput } from "./config/vit-config";
export { resolveViTConfig, toBackboneShape } from "./config/vit-config";
export type { VitErrorCode } from "./errors";
export { VIT_ERROR_CODES } from "./errors";
export type {
  ActivationRecomputation,
  CreateViTOptions,
  DepthHeadConfig,
  FeaturePooling,
  HeadOptions,
  ImageFormat,
  NamedParameter,
  ParameterInitializer,
  ParameterLayout,
  SetHeadOptions,
  ViTBlock,
  ViTFeatureOptions,
  ViTForwardOptions,
  ViTHead,
  ViTOutput,
} from "./model";
export { ClassificationHead, createViT, DepthHead, poolSequence, ViT } from "./model";
export { batchMatMul, gelu, layerNorm } from "./ops";
export type { PreprocessOptions } from "./preprocess/preprocess";
export { preprocessImages } from "./preprocess/preprocess";
export type { ResamplePositionEmbeddingsOptions, ResizeBicubicOptions } from "./weights/bicubic";
export { resamplePositionEmbeddings, resizeBicubic } from "./weights/bicubic";
export type { CheckpointConfig, CheckpointSource } from "./weights/checkpoint-config";
export { parseCheckpointConfig, toHfConfig } from "./weights/checkpoint-config";
export { VIT_CONFIG_LIMITS } from "./weights/config-limits";
export type { LoadViTOptions } from "./weights/load";
export { decodeViT } from "./weights/load";
export type { EncodedViT, EncodeViTOptions } from "./weights/save";
export { encodeViT } from "./weights/save";
export type { Float32Tensor, RenameProblem } from "./weights/tensor-names";
export { hasTimmNames, normaliseHfNames, timmToHfTensors } from "./weights/tensor-names";
export { VIT_FILES } from "./weights/vit-files";
