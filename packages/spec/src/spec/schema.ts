import { z } from "zod";
import type { AdapterFusionSpec, KoraSpec, LoraSpec, TARGET_MODULES } from "./types";

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();
const dropout = z.number().min(0).lt(1);
const activation = z.enum(["gelu", "relu", "silu", "tanh", "identity"]);

const layers = z
  .array(nonNegativeInt)
  .min(1)
  .nullable()
  .refine((list) => list === null || list.every((value, i) => i === 0 || value > (list[i - 1] as number)), {
    message: "must be sorted ascending without duplicates",
  });

const targets = z
  .array(z.enum(["query", "key", "value", "output", "fc1", "fc2"] satisfies typeof TARGET_MODULES))
  .min(1)
  .refine((list) => new Set(list).size === list.length, { message: "must not contain duplicates" });

/** @internal */
export const loraSchema = z.strictObject({
  method: z.literal("lora"),
  rank: positiveInt.default(8),
  alpha: z.number().positive().default(8),
  dropout: dropout.default(0),
  targets: targets.default(["query", "value"]),
  layers: layers.default(null),
  rslora: z.boolean().default(false),
  init: z.enum(["kaiming", "gaussian"]).default("kaiming"),
});

const compositionSchema = z.strictObject({
  kind: z.enum(["mlp", "attention"]).default("mlp"),
  hidden: positiveInt.default(4),
  activation: activation.default("gelu"),
  bias: z.boolean().default(true),
});

const gateSchema = z
  .strictObject({
    per: z.enum(["scalar", "channel"]).default("scalar"),
    init: z.number().refine(Number.isFinite, { message: "must be finite" }).default(0),
    mode: z.enum(["learnable", "fixed", "none"]).default("learnable"),
  })
  .refine((gate) => gate.mode !== "fixed" || gate.init !== 0, {
    message: "a fixed gate must have a non-zero init (a fixed zero gate disables the adapter)",
    path: ["init"],
  });

/** @internal */
export const koraSchema = z.strictObject({
  method: z.literal("kora"),
  rank: positiveInt.default(8),
  alpha: z.number().positive().default(8),
  dropout: dropout.default(0),
  rslora: z.boolean().default(false),
  layers: layers.default(null),
  bInitStd: z.number().positive().default(0.02),
  composition: compositionSchema.prefault({}),
  gate: gateSchema.prefault({}),
  apply: z.enum(["value", "qkv"]).default("value"),
});

/** @internal */
export const adapterFusionSchema = z.strictObject({
  method: z.literal("adapter-fusion"),
  adapters: z
    .array(z.string().regex(/^[A-Za-z0-9_-]+$/, { message: "must match [A-Za-z0-9_-]+" }))
    .min(1)
    .refine((list) => new Set(list).size === list.length, { message: "must not contain duplicates" })
    .default(["adapter_0", "adapter_1"]),
  reduction: z.number().positive().default(64),
  bottleneck: positiveInt.nullable().default(null),
  activation: activation.default("relu"),
  fusion: z
    .strictObject({
      variant: z.enum(["dynamic", "static"]).default("static"),
      attentionDim: positiveInt.nullable().default(8),
    })
    .prefault({}),
  training: z.enum(["single-stage", "two-stage"]).default("single-stage"),
  layers: layers.default(null),
});

// Compile-time proof that the schemas produce exactly the documented types.
// Types only, so the module runs nothing at import beyond building its schemas.
type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Expect<T extends true> = T;
export type _SchemasMatchTypes = [
  Expect<Exact<z.output<typeof loraSchema>, LoraSpec>>,
  Expect<Exact<z.output<typeof koraSchema>, KoraSpec>>,
  Expect<Exact<z.output<typeof adapterFusionSchema>, AdapterFusionSpec>>,
];
