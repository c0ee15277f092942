export type { AdapterTensorInfo, AdapterTensorLayoutOptions, TensorGroup } from "./adapter-tensor-layout";
export { adapterTensorLayout, headTensorLayout, shapeSize } from "./adapter-tensor-layout";
export type { BackboneShape } from "./backbone-shape";
export {
  backboneParameterCount,
  headParameterCount,
  numPatches,
  targetModuleShape,
  validateBackboneShape,
} from "./backbone-shape";
export type { CountParametersOptions, ParameterCount } from "./count-parameters";
export { countParameters } from "./count-parameters";
export type { MatchingRank } from "./matching-rank";
export { loraRankForCount, matchingRank } from "./matching-rank";
