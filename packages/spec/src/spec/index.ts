export { defaultAdapterSpec, MAX_SPEC_DEPTH, parseAdapterSpec } from "./parse-adapter-spec";
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
} from "./types";
export { TARGET_MODULES } from "./types";
