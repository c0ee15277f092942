export type { KoraValueDenseArgs } from "./kora-dense";
export { KoraValueDense } from "./kora-dense";
export type { LoraDenseArgs } from "./lora-dense";
export { LoraDense } from "./lora-dense";
export { registerAdapterLayers } from "./register";
export type { KoraLayersOptions, LayersAdapterOptions, LoraLayersOptions } from "./wrap-layers-model";
export { applyKoraToLayersModel, applyLoraToLayersModel } from "./wrap-layers-model";
