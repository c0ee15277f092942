import type { ZodMiniType } from "zod/mini";
import type { AdapterTensorInfo } from "../params/adapter-tensor-layout";
import type { BackboneShape } from "../params/backbone-shape";
import type { AdapterMethod, AdapterSpec } from "../spec/types";

/** The complete spec type of one method, e.g. `SpecOf<"kora">` is `KoraSpec`. */
export type SpecOf<M extends AdapterMethod> = Extract<AdapterSpec, { method: M }>;

/**
 * Everything the tensor-agnostic layer knows about one adapter method. One definition per method lives in
 * {@link ADAPTER_METHOD_REGISTRY}; every place that depends on the method reads it from there.
 */
export interface MethodDefinition<S extends AdapterSpec = AdapterSpec> {
  /** The `method` discriminator. */
  readonly method: S["method"];
  /** Display name, e.g. `"KoRA"`. */
  readonly title: string;
  /** One-line description for help texts. */
  readonly summary: string;
  /** Whether the update is a linear map of the input that can be folded into the backbone kernels. */
  readonly mergeable: boolean;
  /**
   * The zod/mini schema that validates a spec and fills its defaults (`parseAdapterSpec` dispatches to it). Built
   * on first access, so that importing the registry costs a browser bundle no zod until a spec is parsed.
   */
  readonly schema: ZodMiniType<S>;
  /**
   * The adapter's own tensors on `backbone` (head excluded), in file order: blocks ascending, then a fixed
   * per-block order. Parameter counts and file validation are derived from it.
   */
  layout(spec: S, backbone: BackboneShape): AdapterTensorInfo[];
  /** A short, file-name-safe label of the spec's main settings, e.g. `"lora-r8"`. */
  label(spec: S): string;
  /** One line describing the spec's settings for humans. */
  describe(spec: S): string;
}

/** Describes the `layers` field: `"all blocks"` or `"blocks 0,6,11"`. @internal */
export function describeLayers(layers: number[] | null): string {
  return layers === null ? "all blocks" : `blocks ${layers.join(",")}`;
}
