import * as z from "zod/mini";
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

// Built on first use, not at import (see spec/schema.ts: keeps zod out of bundles that never parse a spec).
const buildSchema = () =>
  z.strictObject({
    method: z.literal("lora"),
    rank: z._default(positiveInt(), 8),
    alpha: z._default(z.number().check(z.positive()), 8),
    dropout: z._default(dropoutSchema(), 0),
    targets: z._default(targetsSchema(), ["query", "value"]),
    layers: z._default(layersSchema(), null),
    rslora: z._default(z.boolean(), false),
    init: z._default(z.enum(["kaiming", "gaussian"]), "kaiming"),
  });
let schema: ReturnType<typeof buildSchema> | undefined;
/** Compile-time proof that the schema produces exactly the documented type. @internal */
export type _SchemaMatchesSpec = Expect<Exact<z.output<ReturnType<typeof buildSchema>>, LoraSpec>>;

/** LoRA: `layers.{i}.{target}.lora_A` `[r, in]` / `.lora_B` `[out, r]`, targets in block order. */
export const loraMethod: MethodDefinition<LoraSpec> = {
  method: "lora",
  title: "LoRA",
  summary: "low-rank updates s·B·A of chosen projections, peft-compatible",
  mergeable: true,
  get schema() {
    schema ??= buildSchema();
    return schema;
  },
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
