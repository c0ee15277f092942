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
import { basisFunctionCount, basisLabel, basisSchema, compositionBasis } from "./kora-basis";
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
      z
        .strictObject({
          kind: z._default(z.enum(["mlp", "attention"]), "mlp"),
          hidden: z._default(positiveInt(), 4),
          activation: z._default(activationSchema(), "gelu"),
          bias: z._default(z.boolean(), true),
          // Optional rather than defaulted, so that a spec without it parses to exactly what it did before.
          basis: z.exactOptional(basisSchema()),
        })
        .check(
          z.refine((c) => c.kind === "mlp" || compositionBasis(c).kind === "fixed", {
            message:
              'a learnable basis ("rbf", "bspline") needs composition.kind "mlp" (the attention composition has no activation between two layers to replace)',
            path: ["basis"],
          }),
        ),
      {},
    ),
    gate: z.prefault(gateSchema(), {}),
    apply: z._default(z.enum(["value", "qkv", "composed-qkv"]), "value"),
  });
let schema: ReturnType<typeof buildSchema> | undefined;
/** Compile-time proof that the schema produces exactly the documented type. @internal */
export type _SchemaMatchesSpec = Expect<Exact<z.output<ReturnType<typeof buildSchema>>, KoraSpec>>;

/**
 * KoRA: `layers.{i}.kora.{query,key,value}.lora_A|lora_B`, then the composition (`fc1`, the learnable basis
 * `basis.coefficients` `[h, K]` and `basis.base` `[h]` when there is one, `fc2` for mlp;
 * `query`/`key`/`value`/`output` for attention), then the learnable gate: `layers.{i}.kora.gate`, or with
 * `apply: "composed-qkv"` one per projection, `layers.{i}.kora.{query,key,value}.gate`. With `composed-qkv` the
 * mlp composition's `fc2` is `[3D, h]`: rows `0…D−1` give δ'_q, `D…2D−1` δ'_k, `2D…3D−1` δ'_v.
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
    const composed = spec.apply === "composed-qkv";
    for (const layer of adaptedLayers(spec, backbone)) {
      const prefix = `layers.${layer}.kora`;
      for (const target of ["query", "key", "value"] as const) {
        pushLoraPair(out, `${prefix}.${target}`, layer, spec.rank, { in: d, out: d });
      }
      const comp = `${prefix}.composition`;
      if (spec.composition.kind === "mlp") {
        pushLinear(out, `${comp}.fc1`, layer, "composition", h, 3 * d, bias);
        const basis = compositionBasis(spec.composition);
        if (basis.kind !== "fixed") {
          const shape = [h, basisFunctionCount(basis)];
          out.push({
            name: `${comp}.basis.coefficients`,
            shape,
            layer,
            group: "composition",
            trainable: true,
          });
          if (basis.kind === "bspline" && basis.base === "silu") {
            out.push({
              name: `${comp}.basis.base`,
              shape: [h],
              layer,
              group: "composition",
              trainable: true,
            });
          }
        }
        pushLinear(out, `${comp}.fc2`, layer, "composition", composed ? 3 * d : d, h, bias);
      } else {
        for (const projection of ["query", "key", "value"]) {
          pushLinear(out, `${comp}.${projection}`, layer, "composition", h, d, bias);
        }
        // One output projection shared by the three tokens' read-outs, so composed-qkv adds only the gates here.
        pushLinear(out, `${comp}.output`, layer, "composition", d, h, bias);
      }
      if (composed) {
        for (const target of ["query", "key", "value"])
          pushGate(out, `${prefix}.${target}`, layer, spec.gate, d);
      } else {
        pushGate(out, prefix, layer, spec.gate, d);
      }
    }
    return out;
  },
  // The suffixes appear only for the newer settings, so that every label made before them is unchanged.
  label: (spec) => {
    const basis = basisLabel(compositionBasis(spec.composition));
    return `kora-h${spec.composition.hidden}-r${spec.rank}${basis === "" ? "" : `-${basis}`}${spec.apply === "composed-qkv" ? "-cqkv" : ""}`;
  },
  describe: (spec) => {
    const basis = compositionBasis(spec.composition);
    const extra = `${basis.kind === "fixed" ? "" : `, basis ${basis.kind} grid ${basis.grid}`}${spec.apply === "composed-qkv" ? ", composed q/k/v with three gates" : ""}`;
    return `kora rank ${spec.rank}, alpha ${spec.alpha}, composition ${spec.composition.kind} d_comp ${spec.composition.hidden}, gate per ${spec.gate.per}${extra}, ${describeLayers(spec.layers)}`;
  },
};
