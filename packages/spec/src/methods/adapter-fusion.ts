import * as z from "zod/mini";
import type { AdapterTensorInfo } from "../params/adapter-tensor-layout";
import { activationSchema, type Exact, type Expect, layersSchema, positiveInt } from "../spec/schema";
import type { AdapterFusionSpec } from "../spec/types";
import { adaptedLayers, pushLinear } from "./layout-helpers";
import { describeLayers, type MethodDefinition } from "./method-definition";

// Built on first use, not at import (see spec/schema.ts: keeps zod out of bundles that never parse a spec).
const buildSchema = () =>
  z.strictObject({
    method: z.literal("adapter-fusion"),
    adapters: z._default(
      z.array(z.string().check(z.regex(/^[A-Za-z0-9_-]+$/, { message: "must match [A-Za-z0-9_-]+" }))).check(
        z.minLength(1),
        z.refine((list) => new Set(list).size === list.length, { message: "must not contain duplicates" }),
      ),
      ["adapter_0", "adapter_1"],
    ),
    reduction: z._default(z.number().check(z.positive()), 64),
    bottleneck: z._default(z.nullable(positiveInt()), null),
    activation: z._default(activationSchema(), "relu"),
    fusion: z.prefault(
      z.strictObject({
        variant: z._default(z.enum(["dynamic", "static"]), "static"),
        attentionDim: z._default(z.nullable(positiveInt()), 8),
      }),
      {},
    ),
    training: z._default(z.enum(["single-stage", "two-stage"]), "single-stage"),
    layers: z._default(layersSchema(), null),
  });
let schema: ReturnType<typeof buildSchema> | undefined;
/** Compile-time proof that the schema produces exactly the documented type. @internal */
export type _SchemaMatchesSpec = Expect<Exact<z.output<ReturnType<typeof buildSchema>>, AdapterFusionSpec>>;

/** Bottleneck width of an AdapterFusion spec on a backbone of hidden size `dim`. */
export function fusionBottleneck(spec: AdapterFusionSpec, dim: number): number {
  return spec.bottleneck ?? Math.max(1, Math.floor(dim / spec.reduction));
}

/**
 * AdapterFusion: `layers.{i}.adapters.{name}.{down,up}.weight|bias` for each adapter, then
 * `layers.{i}.fusion.{query,key[,value]}.weight|bias`.
 */
export const adapterFusionMethod: MethodDefinition<AdapterFusionSpec> = {
  method: "adapter-fusion",
  title: "AdapterFusion",
  summary: "N bottleneck adapters after each FFN, fused per token by attention",
  mergeable: false,
  get schema() {
    schema ??= buildSchema();
    return schema;
  },
  layout(spec, backbone) {
    const out: AdapterTensorInfo[] = [];
    const d = backbone.dim;
    const b = fusionBottleneck(spec, d);
    const a = spec.fusion.attentionDim ?? d;
    const adaptersTrainable = spec.training === "single-stage";
    for (const layer of adaptedLayers(spec, backbone)) {
      for (const name of spec.adapters) {
        const prefix = `layers.${layer}.adapters.${name}`;
        pushLinear(out, `${prefix}.down`, layer, "adapter", b, d, true, adaptersTrainable);
        pushLinear(out, `${prefix}.up`, layer, "adapter", d, b, true, adaptersTrainable);
      }
      const fusion = `layers.${layer}.fusion`;
      pushLinear(out, `${fusion}.query`, layer, "fusion", a, d, true);
      pushLinear(out, `${fusion}.key`, layer, "fusion", a, d, true);
      if (spec.fusion.variant === "dynamic") pushLinear(out, `${fusion}.value`, layer, "fusion", d, d, true);
    }
    return out;
  },
  label: () => "adapter-fusion",
  describe: (spec) =>
    `adapter-fusion ${spec.adapters.length} adapters, ${spec.bottleneck === null ? `reduction ${spec.reduction}` : `bottleneck ${spec.bottleneck}`}, fusion ${spec.fusion.variant}, ${spec.training}, ${describeLayers(spec.layers)}`,
};
