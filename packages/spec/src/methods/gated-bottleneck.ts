import { z } from "zod";
import type { AdapterTensorInfo } from "../params/adapter-tensor-layout";
import {
  activationSchema,
  dropoutSchema,
  type Exact,
  type Expect,
  gateSchema,
  layersSchema,
  positiveInt,
} from "../spec/schema";
import type { GatedBottleneckSpec } from "../spec/types";
import { adaptedLayers, pushGate, pushLinear } from "./layout-helpers";
import { describeLayers, type MethodDefinition } from "./method-definition";

const gatedBottleneckSchema = z.strictObject({
  method: z.literal("gated-bottleneck"),
  hidden: positiveInt.default(4),
  activation: activationSchema.default("gelu"),
  bias: z.boolean().default(true),
  dropout: dropoutSchema.default(0),
  layers: layersSchema.default(null),
  gate: gateSchema.prefault({}),
});
/** Compile-time proof that the schema produces exactly the documented type. @internal */
export type _SchemaMatchesSpec = Expect<Exact<z.output<typeof gatedBottleneckSchema>, GatedBottleneckSpec>>;

/**
 * The gated bottleneck adapter on V: `layers.{i}.bottleneck.down.weight` `[h, D]` (+ `.bias` `[h]`),
 * `.up.weight` `[D, h]` (+ `.bias` `[D]`), then the learnable gate `layers.{i}.bottleneck.gate` `[1]` or `[D]`.
 * Per block: `2·h·D + h + D` (with biases) plus the gate.
 */
export const gatedBottleneckMethod: MethodDefinition<GatedBottleneckSpec> = {
  method: "gated-bottleneck",
  title: "gated bottleneck adapter",
  summary: "v' = v + g·(W₂ σ(W₁ x + b₁) + b₂) on each attention block's value path, KoRA's functional twin",
  mergeable: false,
  schema: gatedBottleneckSchema,
  layout(spec, backbone) {
    const out: AdapterTensorInfo[] = [];
    const d = backbone.dim;
    for (const layer of adaptedLayers(spec, backbone)) {
      const prefix = `layers.${layer}.bottleneck`;
      pushLinear(out, `${prefix}.down`, layer, "adapter", spec.hidden, d, spec.bias);
      pushLinear(out, `${prefix}.up`, layer, "adapter", d, spec.hidden, spec.bias);
      pushGate(out, prefix, layer, spec.gate, d);
    }
    return out;
  },
  label: (spec) => `gated-bottleneck-h${spec.hidden}`,
  describe: (spec) =>
    `gated-bottleneck hidden ${spec.hidden}, activation ${spec.activation}, gate per ${spec.gate.per}${spec.gate.mode === "learnable" ? "" : ` (${spec.gate.mode})`}, ${describeLayers(spec.layers)}`,
};
