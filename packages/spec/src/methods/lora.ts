import { z } from "zod";
import type { AdapterTensorInfo } from "../params/adapter-tensor-layout";
import { targetModuleShape } from "../params/backbone-shape";
import {
  dropoutSchema,
  type Exact,
  type Expect,
  layersSchema,
  positiveInt,
  targetsSchema,
} from "../spec/schema";
import { type LoraSpec, TARGET_MODULES } from "../spec/types";
import { adaptedLayers, pushLoraPair } from "./layout-helpers";
import { describeLayers, type MethodDefinition } from "./method-definition";

const loraSchema = z.strictObject({
  method: z.literal("lora"),
  rank: positiveInt.default(8),
  alpha: z.number().positive().default(8),
  dropout: dropoutSchema.default(0),
  targets: targetsSchema.default(["query", "value"]),
  layers: layersSchema.default(null),
  rslora: z.boolean().default(false),
  init: z.enum(["kaiming", "gaussian"]).default("kaiming"),
});
/** Compile-time proof that the schema produces exactly the documented type. @internal */
export type _SchemaMatchesSpec = Expect<Exact<z.output<typeof loraSchema>, LoraSpec>>;

/** LoRA: `layers.{i}.{target}.lora_A` `[r, in]` / `.lora_B` `[out, r]`, targets in block order. */
export const loraMethod: MethodDefinition<LoraSpec> = {
  method: "lora",
  title: "LoRA",
  summary: "low-rank updates s·B·A of chosen projections, peft-compatible",
  mergeable: true,
  schema: loraSchema,
  layout(spec, backbone) {
    const out: AdapterTensorInfo[] = [];
    for (const layer of adaptedLayers(spec, backbone)) {
      for (const target of TARGET_MODULES) {
        if (!spec.targets.includes(target)) continue;
        pushLoraPair(out, `layers.${layer}.${target}`, layer, spec.rank, targetModuleShape(target, backbone));
      }
    }
    return out;
  },
  label: (spec) => `lora-r${spec.rank}`,
  describe: (spec) =>
    `lora rank ${spec.rank}, alpha ${spec.alpha}, targets ${spec.targets.join(",")}, ${describeLayers(spec.layers)}`,
};
