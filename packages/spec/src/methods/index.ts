export { fusionBottleneck } from "./adapter-fusion";
export type { FoldedBottleneck } from "./fold-kora";
export { foldKoraIntoBottleneck } from "./fold-kora";
export {
  basisFunctionCount,
  bsplineKnots,
  compositionBasis,
  MAX_BASIS_GRID,
  MAX_BSPLINE_ORDER,
  rbfCentres,
} from "./kora-basis";
export { adaptedLayers } from "./layout-helpers";
export type { MethodDefinition, SpecOf } from "./method-definition";
export type { MethodRegistry } from "./registry";
export { ADAPTER_METHOD_REGISTRY, ADAPTER_METHODS, isAdapterMethod, methodDefinition } from "./registry";
