import * as z from "zod/mini";
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

// Built on first use, not at import (see spec/schema.ts: keeps zod out of bundles that never parse a spec).
const buildSchema = () =>
  z.strictObject({
    method: z.literal("gated-bottleneck"),
    hidden: z._default(positiveInt(), 4),
    activation: z._default(activationSchema(), "gelu"),
    bias: z._default(z.boolean(), true),
    dropout: z._default(dropoutSchema(), 0),
    layers: z._default(layersSchema(), null),
    gate: z.prefault(gateSchema(), {}),
  });
let schema: ReturnType<typeof buildSchema> | undefined;
/** Compile-time proof that the schema produces exactly the documented type. @internal */
export type _SchemaMatchesSpec = Expect<Exact<z.output<ReturnType<typeof buildSchema>>, GatedBottleneckSpec>>;

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
  get schema() {
    schema ??= buildSchema();
    return schema;
  },
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
