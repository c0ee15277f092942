export { defaultAdapterSpec, MAX_SPEC_DEPTH, parseAdapterSpec } from "./parse-adapter-spec";
export type {
  Activation,
  AdapterFusionSpec,
  AdapterMethod,
  AdapterSpec,
  CompositionSpec,
  FusionSpec,
  GatedBottleneckSpec,
  GatedLoraSpec,
  GateSpec,
  KoraSpec,
  LoraSpec,
  TargetModule,
} from "./types";
export { TARGET_MODULES } from "./types";
