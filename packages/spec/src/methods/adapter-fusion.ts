import { z } from "zod";
import type { AdapterTensorInfo } from "../params/adapter-tensor-layout";
import { activationSchema, type Exact, type Expect, layersSchema, positiveInt } from "../spec/schema";
import type { AdapterFusionSpec } from "../spec/types";
import { adaptedLayers, pushLinear } from "./layout-helpers";
import { describeLayers, type MethodDefinition } from "./method-definition";

const adapterFusionSchema = z.strictObject({
  method: z.literal("adapter-fusion"),
  adapters: z
    .array(z.string().regex(/^[A-Za-z0-9_-]+$/, { message: "must match [A-Za-z0-9_-]+" }))
    .min(1)
    .refine((list) => new Set(list).size === list.length, { message: "must not contain duplicates" })
    .default(["adapter_0", "adapter_1"]),
  reduction: z.number().positive().default(64),
  bottleneck: positiveInt.nullable().default(null),
  activation: activationSchema.default("relu"),
  fusion: z
    .strictObject({
      variant: z.enum(["dynamic", "static"]).default("static"),
      attentionDim: positiveInt.nullable().default(8),
    })
    .prefault({}),
  training: z.enum(["single-stage", "two-stage"]).default("single-stage"),
  layers: layersSchema.default(null),
});
/** Compile-time proof that the schema produces exactly the documented type. @internal */
export type _SchemaMatchesSpec = Expect<Exact<z.output<typeof adapterFusionSchema>, AdapterFusionSpec>>;

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
  schema: adapterFusionSchema,
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
