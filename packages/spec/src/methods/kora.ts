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
import type { KoraSpec } from "../spec/types";
import { adaptedLayers, pushGate, pushLinear, pushLoraPair } from "./layout-helpers";
import { describeLayers, type MethodDefinition } from "./method-definition";

// Built on first use, not at import (see spec/schema.ts: keeps zod out of bundles that never parse a spec).
const buildSchema = () =>
  z.strictObject({
    method: z.literal("kora"),
    rank: z._default(positiveInt(), 8),
    alpha: z._default(z.number().check(z.positive()), 8),
    dropout: z._default(dropoutSchema(), 0),
    rslora: z._default(z.boolean(), false),
    layers: z._default(layersSchema(), null),
    bInitStd: z._default(z.number().check(z.positive()), 0.02),
    composition: z.prefault(
      z.strictObject({
        kind: z._default(z.enum(["mlp", "attention"]), "mlp"),
        hidden: z._default(positiveInt(), 4),
        activation: z._default(activationSchema(), "gelu"),
        bias: z._default(z.boolean(), true),
      }),
      {},
    ),
    gate: z.prefault(gateSchema(), {}),
    apply: z._default(z.enum(["value", "qkv"]), "value"),
  });
let schema: ReturnType<typeof buildSchema> | undefined;
/** Compile-time proof that the schema produces exactly the documented type. @internal */
export type _SchemaMatchesSpec = Expect<Exact<z.output<ReturnType<typeof buildSchema>>, KoraSpec>>;

/**
 * KoRA: `layers.{i}.kora.{query,key,value}.lora_A|lora_B`, then the composition (`fc1`/`fc2` for mlp,
 * `query`/`key`/`value`/`output` for attention), then the learnable gate.
 */
export const koraMethod: MethodDefinition<KoraSpec> = {
  method: "kora",
  title: "KoRA",
  summary: "q/k/v low-rank deltas mixed by a composition block, added to the value path through a gate",
  mergeable: false,
  get schema() {
    schema ??= buildSchema();
    return schema;
  },
  layout(spec, backbone) {
    const out: AdapterTensorInfo[] = [];
    const d = backbone.dim;
    const { hidden: h, bias } = spec.composition;
    for (const layer of adaptedLayers(spec, backbone)) {
      const prefix = `layers.${layer}.kora`;
      for (const target of ["query", "key", "value"] as const) {
        pushLoraPair(out, `${prefix}.${target}`, layer, spec.rank, { in: d, out: d });
      }
      const comp = `${prefix}.composition`;
      if (spec.composition.kind === "mlp") {
        pushLinear(out, `${comp}.fc1`, layer, "composition", h, 3 * d, bias);
        pushLinear(out, `${comp}.fc2`, layer, "composition", d, h, bias);
      } else {
        for (const projection of ["query", "key", "value"]) {
          pushLinear(out, `${comp}.${projection}`, layer, "composition", h, d, bias);
        }
        pushLinear(out, `${comp}.output`, layer, "composition", d, h, bias);
      }
      pushGate(out, prefix, layer, spec.gate, d);
    }
    return out;
  },
  label: (spec) => `kora-h${spec.composition.hidden}-r${spec.rank}`,
  describe: (spec) =>
    `kora rank ${spec.rank}, alpha ${spec.alpha}, composition ${spec.composition.kind} d_comp ${spec.composition.hidden}, gate per ${spec.gate.per}, ${describeLayers(spec.layers)}`,
};
