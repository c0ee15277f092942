export { defaultAdapterSpec, parseAdapterSpec } from "./parse-adapter-spec";
export type {
  Activation,
  AdapterFusionSpec,
  AdapterMethod,
  AdapterSpec,
  CompositionSpec,
  FusionSpec,
  GateSpec,
  KoraSpec,
  LoraSpec,
  TargetModule,
} from "./types";
export { TARGET_MODULES } from "./types";
