/**
 * `@kora/tfjs`: LoRA, KoRA, AdapterFusion and the gated bottleneck adapter for TensorFlow.js (one module per
 * method of `@kora/spec`'s registry), the adapter-site interface backbones implement, and the training engine.
 * @packageDocumentation
 */

export * from "./adapters";
export type { TfjsErrorCode } from "./errors";
export { TFJS_ERROR_CODES } from "./errors";
export type { DropoutScope, RecomputeOptions } from "./ops";
export { linear, recomputeInBackward, withDropoutScope } from "./ops";
export type {
  AdaptableModel,
  FeedForwardHook,
  LinearDeltaHook,
  LinearSiteOptions,
  Qkv,
  QkvHook,
} from "./sites";
export { AttentionSite, LinearSite, MlpSite } from "./sites";
export * from "./training";
