// Barrel of the adapter methods (one module per registered method): injection, merge, save/load, peft export.
export type {
  AdapterTensorsOptions,
  ApplyAdaptersOptions,
  SetAdapterTensorsOptions,
} from "./adapter-handle";
export {
  AdapterHandle,
  applyAdapters,
  getAdapterHandle,
  mergeAdapters,
  removeAdapters,
  requireAdapterHandle,
  setActiveAdapter,
  trainableVariables,
  unmergeAdapters,
} from "./adapter-handle";
export type { AdapterSpecInput } from "./adapter-spec-input";
export { applyActivation } from "./core/activation";
export type { BasisWeights } from "./core/basis";
export { applyBasis } from "./core/basis";
export type { BottleneckWeights, FusionBlockWeights } from "./core/fusion-math";
export { fuseAdapters } from "./core/fusion-math";
export type { Gate, KoraBlockWeights, KoraMathSpec, LowRankPair, Projection } from "./core/kora-math";
export { composeDeltas, koraComposedDeltas, koraQkv } from "./core/kora-math";
export { lowRankDelta } from "./core/low-rank";
export { loraScaling } from "./core/scaling";
export type {
  KoraLayersOptions,
  KoraValueDenseArgs,
  LayersAdapterOptions,
  LoraDenseArgs,
  LoraLayersOptions,
} from "./layers";
export {
  applyKoraToLayersModel,
  applyLoraToLayersModel,
  KoraValueDense,
  LoraDense,
  registerAdapterLayers,
} from "./layers";
