import { readFileSync } from "node:fs";
import { join } from "node:path";
import { KoraError } from "@kora/spec";
import { z } from "zod";
import { metricSchema } from "./config/schema";
import { appRoot } from "./paths";

const metricValues = z.record(z.string(), z.number());

/** A directional claim of the paper, tested as a paired comparison over seeds. */
export const relationSchema = z.object({
  id: z.string(),
  claim: z.string(),
  experiment: z.string(),
  metric: z.string(),
  better: z.string(),
  worse: z.string(),
  higherIsBetter: z.boolean(),
  /**
   * The smallest difference that counts as the claimed effect, in the metric's unit (accuracy points, CKA, metres).
   * The claim is reproduced only when the mean paired difference is at least this; an interval entirely below it
   * contradicts the claim.
   */
  minEffect: z.number().nonnegative(),
  /** Ids of checks (claims/checks.json) that must pass before the relation is assessed at all. */
  requires: z.array(z.string()).default([]),
});
export type Relation = z.infer<typeof relationSchema>;

/** The paper's claims file (claims/kora-readme.json): numbers copied exactly from the seed's README. */
export const claimsSchema = z.object({
  citation: z.string(),
  url: z.url(),
  alsoSeenAt: z.string().optional(),
  retrieved: z.string(),
  setting: z.string(),
  tables: z.record(
    z.string(),
    z.object({ title: z.string(), rows: z.record(z.string(), metricValues), notes: z.string().optional() }),
  ),
  headline: z.object({ title: z.string(), rows: z.record(z.string(), metricValues) }),
  /** Why each relation's minimum effect has the size it has (shown in the report). */
  minEffectRationale: z.string(),
  relations: z.array(relationSchema),
});
export type Claims = z.infer<typeof claimsSchema>;

const checkBase = {
  /** Stable id, referenced by a relation's `requires`. */
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "check ids are lower-case words joined by '-'"),
  /** One line for the report ("Transfer signal: source-adapted LoRA beats a fresh adapter and head-only"). */
  title: z.string().min(1),
  /** Experiment id whose rows are compared. */
  experiment: z.string(),
  metric: metricSchema,
  /** Variant id that must come out ahead. */
  better: z.string(),
  /** Variant id(s) it is compared with, one paired comparison each. */
  worse: z
    .union([z.string(), z.array(z.string()).min(1)])
    .transform((w) => (typeof w === "string" ? [w] : w)),
  higherIsBetter: z.boolean(),
  /** What a failure means, said in the report (e.g. "the setup has no transfer signal"). */
  onFailure: z.string().optional(),
};

/**
 * A check the run must pass for some verdicts to be meaningful: a positive control or a quality gate.
 *
 * - `paired` (the default kind): passes when every comparison `better` vs `worse[i]` is significant (p < α, no
 *   correction: all must pass, an intersection-union test) with a mean difference ≥ `minEffect`.
 * - `margin`: passes when the mean paired difference is ≥ `margin` for every `worse[i]` (a gate such as
 *   "linear probe ≥ pixel probe + 5 points"); the interval is shown beside it.
 */
export const checkSchema = z.union([
  z.object({
    kind: z.literal("paired").default("paired"),
    ...checkBase,
    minEffect: z.number().nonnegative(),
  }),
  z.object({ kind: z.literal("margin"), ...checkBase, margin: z.number() }),
]);
export type Check = z.infer<typeof checkSchema>;

/** claims/checks.json. */
export const checksSchema = z.object({ checks: z.array(checkSchema) });

/** Loads and validates the claims file shipped with the app. */
export function loadClaims(path = join(appRoot(), "claims", "kora-readme.json")): Claims {
  return claimsSchema.parse(JSON.parse(readFileSync(path, "utf8")));
}

/**
 * Loads the checks file and verifies that every relation's `requires` names a check in it.
 *
 * @throws KoraError `INVALID_CHECKS` (a duplicate id, or a relation requiring an unknown check).
 */
export function loadChecks(claims: Claims, path = join(appRoot(), "claims", "checks.json")): Check[] {
  const { checks } = checksSchema.parse(JSON.parse(readFileSync(path, "utf8")));
  validateChecks(claims, checks, path);
  return checks;
}

/** Cross-checks ids between the claims and the checks (see {@link loadChecks}). */
export function validateChecks(claims: Claims, checks: readonly Check[], path = "checks"): void {
  const ids = new Set<string>();
  for (const [index, check] of checks.entries()) {
    if (ids.has(check.id)) {
      throw new KoraError({
        code: "INVALID_CHECKS",
        message: `${path}: checks[${index}].id "${check.id}" is used twice`,
        path: `checks[${index}].id`,
      });
    }
    ids.add(check.id);
  }
  for (const [index, relation] of claims.relations.entries()) {
    for (const id of relation.requires) {
      if (!ids.has(id)) {
        throw new KoraError({
          code: "INVALID_CHECKS",
          message: `relation "${relation.id}" requires check "${id}", which ${path} does not define (known: ${[...ids].join(", ") || "none"})`,
          path: `relations[${index}].requires`,
        });
      }
    }
  }
}
