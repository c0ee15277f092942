import * as z from "zod/mini";
import type { TARGET_MODULES } from "./types";

// Schema pieces shared by several adapter methods; each method's own schema lives in its file in ../methods.
//
// Everything here is zod/mini, and every schema is built by a function the first time a spec is parsed, never at
// module top level: zod/mini is tree-shakable where zod's classic API is not (its schema class references every
// method, ~450 kB minified), and a schema built at top level is a call a bundler must keep. A browser page that
// imports only `countParameters` or `SeededRandom` from this package therefore carries no zod at all, and one
// that parses specs carries only the zod/mini pieces used below.

/** @internal */
export const positiveInt = () => z.number().check(z.int(), z.positive());
/** @internal */
export const dropoutSchema = () => z.number().check(z.gte(0), z.lt(1));
/** @internal */
export const activationSchema = () => z.enum(["gelu", "relu", "silu", "tanh", "identity"]);

/** @internal Block indices, sorted and unique, or `null` for every block. */
export const layersSchema = () =>
  z.nullable(z.array(z.number().check(z.int(), z.nonnegative())).check(z.minLength(1))).check(
    z.refine(
      (list) => list === null || list.every((value, i) => i === 0 || value > (list[i - 1] as number)),
      {
        message: "must be sorted ascending without duplicates",
      },
    ),
  );

/** @internal */
export const targetsSchema = () =>
  z.array(z.enum(["query", "key", "value", "output", "fc1", "fc2"] satisfies typeof TARGET_MODULES)).check(
    z.minLength(1),
    z.refine((list) => new Set(list).size === list.length, { message: "must not contain duplicates" }),
  );

/** @internal The gate of KoRA and of the gated bottleneck adapter. */
export const gateSchema = () =>
  z
    .strictObject({
      per: z._default(z.enum(["scalar", "channel"]), "scalar"),
      init: z._default(z.number().check(z.refine(Number.isFinite, { message: "must be finite" })), 0),
      mode: z._default(z.enum(["learnable", "fixed", "none"]), "learnable"),
    })
    .check(
      z.refine((gate) => gate.mode !== "fixed" || gate.init !== 0, {
        message: "a fixed gate must have a non-zero init (a fixed zero gate disables the adapter)",
        path: ["init"],
      }),
    );

/** Compile-time proof that a schema produces exactly the documented type. @internal */
export type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/**
 * Fails to compile unless `T` is `true`: `type _Check = Expect<Exact<A, B>>` asserts at the type level, so the
 * module runs nothing at import (the package is `"sideEffects": false`). @internal
 */
export type Expect<T extends true> = T;
