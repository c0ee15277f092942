export { fusionBottleneck } from "./adapter-fusion";
export type { FoldedBottleneck } from "./fold-kora";
export { foldKoraIntoBottleneck } from "./fold-kora";
export { adaptedLayers } from "./layout-helpers";
export type { MethodDefinition, SpecOf } from "./method-definition";
export type { MethodRegistry } from "./registry";
export { ADAPTER_METHOD_REGISTRY, ADAPTER_METHODS, isAdapterMethod, methodDefinition } from "./registry";
