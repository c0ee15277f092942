/**
 * `@kora/spec`: the registry of adapter methods, tensor-agnostic adapter specs, exact parameter counts,
 * target-module naming, the safetensors codec, the adapter file format and the peft mapping. No tfjs and no
 * `node:` imports (see `@kora/spec/node`).
 * @packageDocumentation
 */

export type {
  AdapterFile,
  AdapterManifest,
  AdapterTensor,
  DecodeAdapterInput,
  EncodeAdapterInput,
  EncodedAdapter,
} from "./adapter-file";
export {
  ADAPTER_FILES,
  ADAPTER_FORMAT,
  ADAPTER_FORMAT_VERSION,
  decodeAdapter,
  encodeAdapter,
  MAX_ADAPTER_MANIFEST_BYTES,
  validateAdapterTensors,
} from "./adapter-file";
export type { KoraErrorCode, KoraErrorOptions, SpecErrorCode } from "./errors";
export { KoraError, SPEC_ERROR_CODES } from "./errors";
export { MAX_JSON_DEPTH } from "./json";
export type { FoldedBottleneck, MethodDefinition, MethodRegistry, SpecOf } from "./methods";
export {
  ADAPTER_METHOD_REGISTRY,
  ADAPTER_METHODS,
  adaptedLayers,
  basisFunctionCount,
  bsplineKnots,
  compositionBasis,
  foldKoraIntoBottleneck,
  fusionBottleneck,
  isAdapterMethod,
  MAX_BASIS_GRID,
  MAX_BSPLINE_ORDER,
  methodDefinition,
  rbfCentres,
} from "./methods";
export type { HfModulePathOptions } from "./naming";
export { hfBlockModuleSuffix, hfModulePath, parseHfModulePath } from "./naming";
export type { NpyArray } from "./npy";
export { MAX_NPY_DIMENSIONS, MAX_NPY_HEADER_BYTES, readNpy } from "./npy";
export type {
  AdapterTensorInfo,
  AdapterTensorLayoutOptions,
  BackboneShape,
  CountParametersOptions,
  MatchingRank,
  ParameterCount,
  TensorGroup,
} from "./params";
export {
  adapterTensorLayout,
  backboneParameterCount,
  countParameters,
  headParameterCount,
  headTensorLayout,
  loraRankForCount,
  matchingRank,
  numPatches,
  shapeSize,
  targetModuleShape,
  validateBackboneShape,
} from "./params";
export type {
  DecodePeftAdapterInput,
  EncodePeftAdapterInput,
  PeftLoraConfig,
  ToPeftConfigOptions,
} from "./peft";
export {
  decodePeftAdapter,
  encodePeftAdapter,
  fromPeftConfig,
  fromPeftTensorNames,
  PEFT_FILES,
  peftHeadTensorName,
  peftTensorName,
  toPeftConfig,
  toPeftTensorNames,
} from "./peft";
export type { RandomState } from "./random";
export { hashSeed, SeededRandom } from "./random";
export * from "./safetensors";
export type {
  Activation,
  AdapterFusionSpec,
  AdapterMethod,
  AdapterSpec,
  BSplineBasis,
  CompositionBasis,
  CompositionSpec,
  FixedBasis,
  FusionSpec,
  GatedBottleneckSpec,
  GatedLoraSpec,
  GateSpec,
  KoraSpec,
  LoraSpec,
  RbfBasis,
  TargetModule,
} from "./spec";
export { defaultAdapterSpec, MAX_SPEC_DEPTH, parseAdapterSpec, TARGET_MODULES } from "./spec";
export { closestName, didYouMean } from "./text";
