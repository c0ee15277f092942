import { describe, expect, it } from "vitest";
import { loadClaims } from "../claims";
import { loadExperiments } from "../config/experiments";
import { resolvePreset } from "../config/presets";
import type { Experiment } from "../config/schema";
import { runKey } from "../plan";
import type { RunResult } from "../results";
import { buildReport, formatSummary } from "./build";
import { meanMatrix, summarise } from "./stats";

const preset = resolvePreset("smoke");
const experiments = loadExperiments();
const claims = loadClaims();
const byId = (id: string) => experiments.find((e) => e.id === id) as Experiment;

/** A result for a variant of an experiment at a seed, with the given metrics. */
function result(
  experiment: Experiment,
  variantId: string,
  seed: number,
  metrics: Record<string, number>,
  extra: Record<string, unknown> = {},
  status: RunResult["status"] = "ok",
): RunResult {
  const variant = experiment.variants.find((v) => v.id === variantId)!;
  const key = runKey(preset, variant.task, variant.method, variant.shuffleLabels, seed);
  return {
    format: 1,
    key,
    name: key,
    status,
    task: variant.task,
    method: variant.method,
    seed,
    shuffleLabels: variant.shuffleLabels,
    sourceKey: null,
    usedBy: [],
    preset: { name: preset.name, config: {} },
    git: { commit: null, dirty: null },
    backend: "wasm",
    node: "v20",
    startedAt: "",
    finishedAt: "",
    timings: { totalSeconds: 1, trainSeconds: 1, evalSeconds: 0 },
    metrics,
    curve: [
      { step: 1, loss: 2 + seed },
      { step: 2, loss: 1 + seed },
    ],
    extra,
    error: status === "failed" ? { message: "boom", code: "X", stack: null } : null,
  };
}

function results(list: RunResult[]): Map<string, RunResult> {
  return new Map(list.map((r) => [r.key, r]));
}

describe("buildReport", () => {
  const e41 = byId("4.1");

  it("summarises each metric over seeds (mean, sample std) beside the paper's number, and averages curves", () => {
    const model = buildReport(
      preset,
      [e41],
      [0, 1],
      results([
        result(e41, "lora-r8", 0, { accuracy: 50, macroF1: 0.4 }),
        result(e41, "lora-r8", 1, { accuracy: 54, macroF1: 0.5 }),
      ]),
      claims,
    );
    const row = model.tables[0]!.rows.find((r) => r.variant.id === "lora-r8")!;
    const accuracy = row.cells.find((c) => c.metric === "accuracy")!;
    expect(accuracy.ours?.mean).toBeCloseTo(52, 12);
    expect(accuracy.ours?.std).toBeCloseTo(Math.SQRT2 * 2, 12);
    expect(accuracy.claim).toBe(92.48);
    expect(row.curve).toEqual([
      { step: 1, loss: 2.5 },
      { step: 2, loss: 1.5 },
    ]);
    // The smoke preset is not the paper's setting: never called reproduced.
    expect(row.verdict).toMatch(/^not comparable \(smoke preset/);
    const missing = model.tables[0]!.rows.find((r) => r.variant.id === "kora-dcomp8")!;
    expect(missing.verdict).toBe("no result");
  });

  it("lists failed runs and says when every run of a row failed", () => {
    const failed = result(e41, "kora-dcomp4", 0, {}, {}, "failed");
    const model = buildReport(preset, [e41], [0], results([failed]), claims);
    expect(model.failures.map((f) => f.key)).toEqual([failed.key]);
    const row = model.tables[0]!.rows.find((r) => r.variant.id === "kora-dcomp4")!;
    expect(row.verdict).toBe("no result: every run failed");
  });

  it("checks a directional claim with two standard errors", () => {
    const list = [0, 1, 2].flatMap((seed) => [
      result(e41, "lora-r8", seed, { accuracy: 80 + seed }),
      result(e41, "kora-dcomp4", seed, { accuracy: 60 + seed }),
    ]);
    const model = buildReport(preset, [e41], [0, 1, 2], results(list), claims);
    const relation = model.relations.find((r) => r.experiment === "4.1" && r.metric === "accuracy")!;
    expect(relation.verdict).toMatch(/^reproduced: difference 20\.00/);
    const reversed = [0, 1, 2].flatMap((seed) => [
      result(e41, "lora-r8", seed, { accuracy: 60 + seed }),
      result(e41, "kora-dcomp4", seed, { accuracy: 80 + seed }),
    ]);
    const opposite = buildReport(preset, [e41], [0, 1, 2], results(reversed), claims);
    expect(opposite.relations.find((r) => r.experiment === "4.1")!.verdict).toMatch(/the opposite holds/);
  });

  it("flags a shuffled-labels control above chance as a leak, and one at chance as ok", () => {
    const controls = byId("controls");
    const shuffled = controls.variants.find((v) => v.shuffleLabels)!.id;
    const extra = { chance: 10, evalExamples: 1000 };
    const leaky = buildReport(
      preset,
      [controls],
      [0],
      results([result(controls, shuffled, 0, { accuracy: 40 }, extra)]),
      claims,
    );
    expect(leaky.leaks).toHaveLength(1);
    expect(leaky.leaks[0]!.verdict).toMatch(/^LEAK\? accuracy 40\.00 %/);
    const fine = buildReport(
      preset,
      [controls],
      [0],
      results([result(controls, shuffled, 0, { accuracy: 10.5 }, extra)]),
      claims,
    );
    expect(fine.leaks).toHaveLength(0);
    const row = fine.tables[0]!.rows.find((r) => r.variant.id === shuffled)!;
    expect(row.verdict).toMatch(/^ok: at chance/);
  });

  it("averages CKA matrices over seeds", () => {
    const e43 = byId("4.3");
    const variant = e43.variants[0]!.id;
    const extra = (v: number) => ({
      all: [
        [1, v],
        [v, 1],
      ],
      selected: [
        [1, v],
        [v, 1],
      ],
      blocks: [0, 1],
    });
    const model = buildReport(
      preset,
      [e43],
      [0, 1],
      results([
        result(e43, variant, 0, { distantCka: 0.2 }, extra(0.2)),
        result(e43, variant, 1, { distantCka: 0.4 }, extra(0.4)),
      ]),
      claims,
    );
    const row = model.tables[0]!.rows.find((r) => r.variant.id === variant)!;
    expect(row.cka?.all[0]?.[1]).toBeCloseTo(0.3, 12);
    expect(row.cka?.blocks).toEqual([0, 1]);
  });
});

describe("stats and formatting", () => {
  it("summarises finite values only, with no spread for one seed", () => {
    expect(summarise([1, null, Number.NaN, 3])).toEqual({ mean: 2, std: Math.SQRT2, n: 2 });
    expect(summarise([5])).toEqual({ mean: 5, std: null, n: 1 });
    expect(summarise([null, undefined])).toBeNull();
    expect(meanMatrix([])).toBeNull();
    expect(meanMatrix([[[1, 2]], [[3, 4]]])).toEqual([[2, 3]]);
  });

  it("formats a summary with the metric's digits", () => {
    expect(formatSummary({ mean: 52.123, std: 1.5, n: 2 }, "accuracy")).toBe("52.12 ± 1.50");
    expect(formatSummary({ mean: 0.5, std: null, n: 1 }, "macroF1")).toBe("0.500 (1 seed)");
    expect(formatSummary(null, "rmse")).toBe("—");
  });
});
