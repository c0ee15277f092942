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
import type { KoraSpec } from "../spec/types";
import { adaptedLayers, pushGate, pushLinear, pushLoraPair } from "./layout-helpers";
import { describeLayers, type MethodDefinition } from "./method-definition";

const compositionSchema = z.strictObject({
  kind: z.enum(["mlp", "attention"]).default("mlp"),
  hidden: positiveInt.default(4),
  activation: activationSchema.default("gelu"),
  bias: z.boolean().default(true),
});

const koraSchema = z.strictObject({
  method: z.literal("kora"),
  rank: positiveInt.default(8),
  alpha: z.number().positive().default(8),
  dropout: dropoutSchema.default(0),
  rslora: z.boolean().default(false),
  layers: layersSchema.default(null),
  bInitStd: z.number().positive().default(0.02),
  composition: compositionSchema.prefault({}),
  gate: gateSchema.prefault({}),
  apply: z.enum(["value", "qkv"]).default("value"),
});
/** Compile-time proof that the schema produces exactly the documented type. @internal */
export type _SchemaMatchesSpec = Expect<Exact<z.output<typeof koraSchema>, KoraSpec>>;

/**
 * KoRA: `layers.{i}.kora.{query,key,value}.lora_A|lora_B`, then the composition (`fc1`/`fc2` for mlp,
 * `query`/`key`/`value`/`output` for attention), then the learnable gate.
 */
export const koraMethod: MethodDefinition<KoraSpec> = {
  method: "kora",
  title: "KoRA",
  summary: "q/k/v low-rank deltas mixed by a composition block, added to the value path through a gate",
  mergeable: false,
  schema: koraSchema,
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
