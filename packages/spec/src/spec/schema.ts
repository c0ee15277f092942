import { z } from "zod";
import type { TARGET_MODULES } from "./types";

// Schema pieces shared by several adapter methods; each method's own schema lives in its file in ../methods.

/** @internal */
export const positiveInt = z.number().int().positive();
/** @internal */
export const dropoutSchema = z.number().min(0).lt(1);
/** @internal */
export const activationSchema = z.enum(["gelu", "relu", "silu", "tanh", "identity"]);

/** @internal Block indices, sorted and unique, or `null` for every block. */
export const layersSchema = z
  .array(z.number().int().nonnegative())
  .min(1)
  .nullable()
  .refine((list) => list === null || list.every((value, i) => i === 0 || value > (list[i - 1] as number)), {
    message: "must be sorted ascending without duplicates",
  });

/** @internal */
export const targetsSchema = z
  .array(z.enum(["query", "key", "value", "output", "fc1", "fc2"] satisfies typeof TARGET_MODULES))
  .min(1)
  .refine((list) => new Set(list).size === list.length, { message: "must not contain duplicates" });

/** @internal The gate of KoRA and of the gated bottleneck adapter. */
export const gateSchema = z
  .strictObject({
    per: z.enum(["scalar", "channel"]).default("scalar"),
    init: z.number().refine(Number.isFinite, { message: "must be finite" }).default(0),
    mode: z.enum(["learnable", "fixed", "none"]).default("learnable"),
  })
  .refine((gate) => gate.mode !== "fixed" || gate.init !== 0, {
    message: "a fixed gate must have a non-zero init (a fixed zero gate disables the adapter)",
    path: ["init"],
  });

/** Compile-time proof that a schema produces exactly the documented type. @internal */
export type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/**
 * Fails to compile unless `T` is `true`: `type _Check = Expect<Exact<A, B>>` asserts at the type level, so the
 * module runs nothing at import (the package is `"sideEffects": false`). @internal
 */
export type Expect<T extends true> = T;
