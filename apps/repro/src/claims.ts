import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { appRoot } from "./paths";

const metricValues = z.record(z.string(), z.number());

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
  relations: z.array(
    z.object({
      id: z.string(),
      claim: z.string(),
      experiment: z.string(),
      metric: z.string(),
      better: z.string(),
      worse: z.string(),
      higherIsBetter: z.boolean(),
    }),
  ),
});
export type Claims = z.infer<typeof claimsSchema>;

/** Loads and validates the claims file shipped with the app. */
export function loadClaims(path = join(appRoot(), "claims", "kora-readme.json")): Claims {
  return claimsSchema.parse(JSON.parse(readFileSync(path, "utf8")));
}
