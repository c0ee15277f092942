import * as z from "zod/mini";
import type { AdapterTensorInfo } from "../params/adapter-tensor-layout";
import { targetModuleShape } from "../params/backbone-shape";
import {
  dropoutSchema,
  type Exact,
  type Expect,
  gateSchema,
  layersSchema,
  positiveInt,
  targetsSchema,
} from "../spec/schema";
import { type GatedLoraSpec, TARGET_MODULES } from "../spec/types";
import { adaptedLayers, pushGate, pushLoraPair } from "./layout-helpers";
import { describeLayers, type MethodDefinition } from "./method-definition";

// Built on first use, not at import (see spec/schema.ts: keeps zod out of bundles that never parse a spec).
const buildSchema = () =>
  z.strictObject({
    method: z.literal("gated-lora"),
    rank: z._default(positiveInt(), 8),
    alpha: z._default(z.number().check(z.positive()), 8),
    dropout: z._default(dropoutSchema(), 0),
    targets: z._default(targetsSchema(), ["query", "value"]),
    layers: z._default(layersSchema(), null),
    rslora: z._default(z.boolean(), false),
    bInitStd: z._default(z.number().check(z.positive()), 0.02),
    gate: z.prefault(gateSchema(), {}),
  });
let schema: ReturnType<typeof buildSchema> | undefined;
/** Compile-time proof that the schema produces exactly the documented type. @internal */
export type _SchemaMatchesSpec = Expect<Exact<z.output<ReturnType<typeof buildSchema>>, GatedLoraSpec>>;

/**
 * Gated LoRA: per targeted projection `layers.{i}.{target}.lora_A` `[r, in]`, `.lora_B` `[out, r]`, then the
 * learnable gate `.gate` `[1]` or `[out]`. Per projection: `r·(in + out)` plus the gate.
 */
export const gatedLoraMethod: MethodDefinition<GatedLoraSpec> = {
  method: "gated-lora",
  title: "gated LoRA",
  summary:
    "y = W x + g·s·B A x with B ≠ 0 and g starting at 0: KoRA's gate on a LoRA, without the composition",
  // The delta g·s·B·A is linear in x (a per-channel gate scales the columns of B·A), so it folds into the kernels.
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
        const shape = targetModuleShape(target, backbone);
        const prefix = `layers.${layer}.${target}`;
        pushLoraPair(out, prefix, layer, spec.rank, shape);
        pushGate(out, prefix, layer, spec.gate, shape.out);
      }
    }
    return out;
  },
  label: (spec) => `gated-lora-r${spec.rank}`,
  describe: (spec) =>
    `gated-lora rank ${spec.rank}, alpha ${spec.alpha}, targets ${spec.targets.join(",")}, gate per ${spec.gate.per}${spec.gate.mode === "learnable" ? "" : ` (${spec.gate.mode})`}, ${describeLayers(spec.layers)}`,
};
