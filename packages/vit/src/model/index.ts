export type { DepthHeadConfig, HeadOptions, ViTHead } from "./heads";
export { ClassificationHead, DepthHead } from "./heads";
export type { NamedParameter, ParameterInitializer, ParameterLayout } from "./parameters";
export type {
  ActivationRecomputation,
  CreateViTOptions,
  FeaturePooling,
  ImageFormat,
  SetHeadOptions,
  ViTBlock,
  ViTFeatureOptions,
  ViTForwardOptions,
  ViTOutput,
} from "./vit";
export { createViT, poolSequence, ViT } from "./vit";
