import { readFileSync } from "node:fs";
import { join } from "node:path";
import { holm, type PairedComparison, studentTQuantile } from "@kora/metrics";
import { z } from "zod";
import { metricSchema } from "../config/schema";
import { appRoot } from "../paths";
import type { RunResult } from "../results";
import { ALPHA, type CheckResult, compareRows, findRow, METRICS, pText, type Row, type Table } from "./build";

const base = {
  /** Stable id, `[a-z0-9-]+`. */
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
  /** The question, as the report's reader would ask it. */
  question: z.string().min(1),
  /** Experiment id whose rows answer it. */
  experiment: z.string(),
  /** Why the question is asked this way and what an answer means (shown under the table). */
  context: z.string().min(1),
};

/**
 * One question of the project's own study (claims/findings.json), answered from the runs:
 *
 * - `difference`: is variant `a` different from `b` by at least `minEffect`? A paired comparison over seeds;
 *   **yes** when the Holm-adjusted p < α and |mean| ≥ `minEffect`, **no** when the 95 % interval lies within
 *   ±`minEffect` (equivalence), **inconclusive** otherwise. With `direction: "a-better"` the question is one-sided
 *   ("is `a` better than `b`?"): a significant difference of at least `minEffect` the other way answers **no**,
 *   saying that the reverse holds (the p value stays two-sided).
 * - `ratio`: how far a variant's gates moved over Adam's reach (see `GateTrajectory`), per seed; **yes** when the
 *   95 % interval of the mean lies above `yesAbove`, **no** when it lies below `noBelow`, inconclusive otherwise.
 */
export const findingSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("difference"),
    ...base,
    metric: metricSchema,
    a: z.string(),
    b: z.string(),
    higherIsBetter: z.boolean(),
    minEffect: z.number().positive(),
    /** `"a-better"`: the question asks whether `a` is better than `b`, not whether they differ. */
    direction: z.enum(["either", "a-better"]).default("either"),
    /** Checks (claims/checks.json) that must pass before the question is answered. */
    requires: z.array(z.string()).default([]),
  }),
  z.object({
    kind: z.literal("ratio"),
    ...base,
    variant: z.string(),
    yesAbove: z.number(),
    noBelow: z.number(),
  }),
]);
export type Finding = z.infer<typeof findingSchema>;

/** claims/findings.json. */
export const findingsSchema = z.object({ questions: z.array(findingSchema) });

/** Loads the study's questions shipped with the app. */
export function loadFindings(path = join(appRoot(), "claims", "findings.json")): Finding[] {
  return findingsSchema.parse(JSON.parse(readFileSync(path, "utf8"))).questions;
}

/** A question with what the runs say. */
export interface FindingResult {
  finding: Finding;
  /** The rows compared, as labelled in the tables (`KoRA (d_comp=4) vs twin: …`, or one row for a ratio). */
  runs: string;
  /** The effect and its interval in words, or null when nothing was measured. */
  effect: string | null;
  /** Seeds the answer rests on. */
  n: number;
  answer: "yes" | "no" | "inconclusive" | "not assessed" | "not run";
  /** The answer in a sentence. */
  reason: string;
  /** The paired comparison of a `difference` question (null for ratios and unanswered ones). */
  comparison: PairedComparison | null;
  /** Holm-adjusted p across the study's difference questions that have one. */
  holmP: number | null;
}

/** Mean over a run's gates of distance moved over Adam's reach at its last recorded step; null without a path. */
export function movedOverReach(result: RunResult): number | null {
  const path = result.extra["gateTrajectory"] as
    | { reach?: number[]; gates?: { moved?: number[] }[] }
    | undefined;
  const reach = path?.reach?.at(-1);
  const moved = (path?.gates ?? [])
    .map((g) => g.moved?.at(-1))
    .filter((m): m is number => typeof m === "number");
  if (reach === undefined || !(reach > 0) || moved.length === 0) return null;
  return moved.reduce((a, b) => a + b, 0) / moved.length / reach;
}

/** Mean and 95 % t interval of per-seed values (no interval with one value). */
function interval(values: readonly number[]): { mean: number; lower: number | null; upper: number | null } {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, lower: null, upper: null };
  const sd = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  const half = studentTQuantile(0.975, n - 1) * (sd / Math.sqrt(n));
  return { mean, lower: mean - half, upper: mean + half };
}

function label(row: Row | undefined, id: string): string {
  return row?.variant.label ?? id;
}

/**
 * Answers each question from the report's tables. Difference questions share one Holm correction (the study's
 * family, separate from the paper's relations); a question whose experiment this preset did not run is "not run",
 * one whose required check failed is "not assessed".
 */
export function assessFindings(
  findings: readonly Finding[],
  tables: readonly Table[],
  checks: readonly CheckResult[],
): FindingResult[] {
  const results: FindingResult[] = findings.map((finding) => {
    const table = tables.find((t) => t.experiment.id === finding.experiment);
    const empty = { effect: null, n: 0, comparison: null, holmP: null };
    if (finding.kind === "ratio") {
      const row = findRow(tables, finding.experiment, finding.variant);
      const runs = label(row, finding.variant);
      if (table === undefined || row === undefined)
        return {
          finding,
          runs,
          ...empty,
          answer: "not run",
          reason: `${finding.experiment} is not in this preset`,
        };
      const values = row.results
        .filter((r) => r.status === "ok")
        .map(movedOverReach)
        .filter((v): v is number => v !== null);
      if (values.length === 0)
        return { finding, runs, ...empty, answer: "not run", reason: "no run recorded a gate path" };
      const { mean, lower, upper } = interval(values);
      const effect =
        lower === null || upper === null
          ? `moved / reach ${mean.toFixed(2)} (one seed)`
          : `moved / reach ${mean.toFixed(2)} [${lower.toFixed(2)}, ${upper.toFixed(2)}]`;
      const answer =
        lower !== null && lower >= finding.yesAbove
          ? "yes"
          : upper !== null && upper <= finding.noBelow
            ? "no"
            : "inconclusive";
      const reason =
        answer === "yes"
          ? `the gates covered at least ${finding.yesAbove} of the distance Adam allows (interval above it): their end value is set by the learning rate and the number of steps`
          : answer === "no"
            ? `the gates moved less than ${finding.noBelow} of what Adam allows (interval below it): they stopped short of the speed limit`
            : `the interval is neither above ${finding.yesAbove} nor below ${finding.noBelow}`;
      return { finding, runs, effect, n: values.length, answer, reason, comparison: null, holmP: null };
    }
    const a = findRow(tables, finding.experiment, finding.a);
    const b = findRow(tables, finding.experiment, finding.b);
    const runs = `${label(a, finding.a)} vs ${label(b, finding.b)}`;
    if (table === undefined || a === undefined || b === undefined)
      return {
        finding,
        runs,
        ...empty,
        answer: "not run",
        reason: `${finding.experiment} is not in this preset`,
      };
    const blocking = finding.requires
      .map((id) => checks.find((c) => c.check.id === id))
      .find((c) => c !== undefined && c.status !== "passed");
    if (blocking !== undefined)
      return { finding, runs, ...empty, answer: "not assessed", reason: `${blocking.check.title} failed` };
    const comparison = compareRows(a, b, finding.metric, {
      higherIsBetter: finding.higherIsBetter,
      minEffect: finding.minEffect,
    });
    if (comparison === null)
      return { finding, runs, ...empty, answer: "not run", reason: "no seed completed on both sides" };
    const digits = METRICS[finding.metric].digits;
    const effect =
      comparison.ci === null
        ? `${comparison.mean.toFixed(digits)} (one seed)`
        : `${comparison.mean.toFixed(digits)} [${comparison.ci.lower.toFixed(digits)}, ${comparison.ci.upper.toFixed(digits)}]`;
    return {
      finding,
      runs,
      effect,
      n: comparison.n,
      answer: "inconclusive",
      reason: "",
      comparison,
      holmP: null,
    };
  });
  const tested = results.filter((r) => r.comparison?.p != null);
  const adjusted = holm(tested.map((r) => r.comparison?.p as number));
  tested.forEach((r, i) => {
    r.holmP = adjusted[i] as number;
  });
  for (const r of results) {
    const c = r.comparison;
    if (c === null || r.finding.kind !== "difference") continue;
    const { minEffect } = r.finding;
    const title = METRICS[r.finding.metric].title;
    const side = c.mean > 0 ? r.runs.split(" vs ")[0] : r.runs.split(" vs ")[1];
    if (r.holmP !== null && r.holmP < ALPHA && Math.abs(c.mean) >= minEffect) {
      const reverse = r.finding.direction === "a-better" && c.mean < 0;
      r.answer = reverse ? "no" : "yes";
      r.reason = `${reverse ? "the reverse holds: " : ""}${side} is better on ${title} by ${Math.abs(c.mean).toFixed(METRICS[r.finding.metric].digits)} (Holm ${pText(r.holmP)}), at least the ${minEffect} that counts`;
    } else if (c.ci !== null && c.ci.lower > -minEffect && c.ci.upper < minEffect) {
      r.answer = "no";
      r.reason = `the interval lies within ±${minEffect} (${title}): any difference is smaller than what counts`;
    } else {
      r.answer = "inconclusive";
      r.reason =
        c.ci === null
          ? "one seed: no interval"
          : `neither a difference of ${minEffect} (${r.holmP === null ? "no p" : `Holm ${pText(r.holmP)}`}) nor equivalence within ±${minEffect} is shown with ${c.n} seeds`;
    }
  }
  return results;
}
