import { describe, expect, it } from "vitest";
import { type Check, type Claims, checksSchema, loadChecks, loadClaims, validateChecks } from "../claims";
import { resolvePreset } from "../config/presets";
import type { Experiment } from "../config/schema";
import type { RunResult } from "../results";
import { auditPaper } from "./audit";
import { buildReport, formatSummary } from "./build";
import { meanMatrix, summarise } from "./stats";
import { fakeResult, syntheticExperiments } from "./test-results";

const result = (
  experiment: Experiment,
  variantId: string,
  seed: number,
  metrics: Record<string, number>,
  extra: Record<string, unknown> = {},
  status: RunResult["status"] = "ok",
) => fakeResult(preset, experiment, variantId, seed, metrics, extra, status);

const preset = resolvePreset("smoke");
const experiments = Object.values(syntheticExperiments());
const claims = loadClaims();
const byId = (id: string) => experiments.find((e) => e.id === id) as Experiment;

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

  it("averages each recorded gate over seeds per block, in block order, and has none for gateless rows", () => {
    const gate = (block: number, value: number) => ({
      block,
      name: `layers.${block}.kora.gate`,
      mean: -value,
      absMean: value,
    });
    const model = buildReport(
      preset,
      [e41],
      [0, 1],
      results([
        result(e41, "kora-dcomp4", 0, { accuracy: 50 }, { gates: [gate(1, 0.3), gate(0, 0.1)] }),
        result(e41, "kora-dcomp4", 1, { accuracy: 51 }, { gates: [gate(0, 0.2), gate(1, 0.5)] }),
        result(e41, "lora-r8", 0, { accuracy: 52 }, { gates: [] }),
      ]),
      claims,
    );
    const kora = model.tables[0]!.rows.find((r) => r.variant.id === "kora-dcomp4")!;
    expect(kora.gates?.map((g) => g.block)).toEqual([0, 1]);
    expect(kora.gates?.[0]?.absMean).toBeCloseTo(0.15, 12);
    expect(kora.gates?.[1]?.absMean).toBeCloseTo(0.4, 12);
    expect(kora.gates?.[1]?.mean).toBeCloseTo(-0.4, 12);
    expect(kora.gates?.[1]?.seeds).toBe(2);
    expect(model.tables[0]!.rows.find((r) => r.variant.id === "lora-r8")!.gates).toBeNull();
  });

  it("averages gate trajectories over the seeds that recorded the same steps, and divides the distance moved by Adam's reach", () => {
    const gate = (block: number, value: number) => ({
      block,
      name: `layers.${block}.kora.gate`,
      mean: value,
      absMean: value,
    });
    // Two blocks; block 1 moved the whole reach (0.03 after step 30), block 0 a third of it.
    const trajectory = (scale: number, steps = [10, 20, 30]) => ({
      steps,
      reach: [0.01, 0.02, 0.03],
      gates: [
        {
          block: 0,
          name: "layers.0.kora.gate",
          absMean: [0.001, 0.005, 0.01].map((v) => v * scale),
          moved: [0.001, 0.005, 0.01].map((v) => v * scale),
        },
        {
          block: 1,
          name: "layers.1.kora.gate",
          absMean: [0.01, 0.02, 0.03].map((v) => v * scale),
          moved: [0.01, 0.02, 0.03].map((v) => v * scale),
        },
      ],
    });
    const model = buildReport(
      preset,
      [e41],
      [0, 1, 2],
      results([
        result(
          e41,
          "kora-dcomp4",
          0,
          { accuracy: 50 },
          { gates: [gate(0, 0.01), gate(1, 0.03)], gateTrajectory: trajectory(1) },
        ),
        result(
          e41,
          "kora-dcomp4",
          1,
          { accuracy: 51 },
          { gates: [gate(0, 0.005), gate(1, 0.015)], gateTrajectory: trajectory(0.5) },
        ),
        // A resumed run that recorded other steps joins the end-of-run ratios but not the averaged curve.
        result(
          e41,
          "kora-dcomp4",
          2,
          { accuracy: 51 },
          { gates: [gate(0, 0.01), gate(1, 0.03)], gateTrajectory: trajectory(1, [15, 20, 30]) },
        ),
        result(e41, "lora-r8", 0, { accuracy: 52 }, { gates: [] }),
      ]),
      claims,
    );
    const kora = model.tables[0]!.rows.find((r) => r.variant.id === "kora-dcomp4")!;
    expect(kora.gateTrajectory?.seeds).toBe(2);
    expect(kora.gateTrajectory?.steps).toEqual([10, 20, 30]);
    expect(kora.gateTrajectory?.reach).toEqual([0.01, 0.02, 0.03]);
    expect(kora.gateTrajectory?.blocks.map((b) => b.block)).toEqual([0, 1]);
    expect(kora.gateTrajectory?.blocks[1]?.absMean[2]).toBeCloseTo(0.0225, 12);
    // Block 0: (1/3 + 1/6 + 1/3) / 3 of its reach; block 1: (1 + 0.5 + 1) / 3.
    expect(kora.gates?.[0]?.movedOverReach).toBeCloseTo(5 / 18, 12);
    expect(kora.gates?.[1]?.movedOverReach).toBeCloseTo(5 / 6, 12);
    const lora = model.tables[0]!.rows.find((r) => r.variant.id === "lora-r8")!;
    expect(lora.gateTrajectory).toBeNull();
    // A trajectory whose arrays disagree in length is ignored, not averaged.
    const broken = buildReport(
      preset,
      [e41],
      [0],
      results([
        result(
          e41,
          "kora-dcomp4",
          0,
          { accuracy: 50 },
          { gates: [gate(0, 0.01)], gateTrajectory: { ...trajectory(1), reach: [0.01] } },
        ),
      ]),
      claims,
    );
    const row = broken.tables[0]!.rows.find((r) => r.variant.id === "kora-dcomp4")!;
    expect(row.gateTrajectory).toBeNull();
    expect(row.gates?.[0]?.movedOverReach).toBeNull();
  });

  it("on the paper preset, says a row matches the paper only when its 95 % interval lies within the tolerance", () => {
    const paper = { ...preset, name: "paper" as const };
    const verdict = (accuracies: number[]) => {
      const list = accuracies.map((accuracy, seed) =>
        fakeResult(paper, e41, "lora-r8", seed, { accuracy, macroF1: 0.924 }),
      );
      const model = buildReport(
        paper,
        [e41],
        accuracies.map((_, seed) => seed),
        results(list),
        claims,
      );
      return model.tables[0]!.rows.find((r) => r.variant.id === "lora-r8")!.verdict;
    };
    // Claim 92.48 % ± 2 points (the accuracy tolerance); macro-F1 sits on its claim, 0.924.
    expect(verdict([92.3, 92.5, 92.7])).toMatch(/^matches the paper/);
    // Same mean, wide spread: the interval crosses the tolerance, which the old 2·std rule called reproduced.
    expect(verdict([91.0, 92.5, 94.0])).toMatch(/^inconclusive: Accuracy \(%\) 92\.50 vs 92\.48/);
    expect(verdict([80.0, 80.5, 81.0])).toMatch(/^differs from the paper: Accuracy \(%\) 80\.50 vs 92\.48/);
    expect(verdict([92.5])).toMatch(/one seed, no interval/);
  });

  it("lists failed runs and says when every run of a row failed", () => {
    const failed = result(e41, "kora-dcomp4", 0, {}, {}, "failed");
    const model = buildReport(preset, [e41], [0], results([failed]), claims);
    expect(model.failures.map((f) => f.key)).toEqual([failed.key]);
    const row = model.tables[0]!.rows.find((r) => r.variant.id === "kora-dcomp4")!;
    expect(row.verdict).toBe("no result: every run failed");
  });

  it("flags a shuffled-labels control above chance as a leak, and one at chance as ok", () => {
    const controls = byId("mixed");
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

/** Per-seed results of two 4.1 rows with the given accuracies (seed i gets the i-th value). */
function accuracies(e41: Experiment, better: number[], worse: number[], metric = "accuracy"): RunResult[] {
  return better.flatMap((v, seed) => [
    result(e41, "lora-r8", seed, { [metric]: v }),
    result(e41, "kora-dcomp4", seed, { [metric]: worse[seed] as number }),
  ]);
}

/** The claims with only the given relations (so the Holm family is what the test says). */
function withRelations(ids: string[], patch: Partial<Claims["relations"][number]> = {}): Claims {
  return {
    ...claims,
    relations: claims.relations.filter((r) => ids.includes(r.id)).map((r) => ({ ...r, ...patch })),
  };
}

describe("paired verdicts of the directional claims", () => {
  const e41 = byId("4.1");
  const seeds = [0, 1, 2];
  const lone = withRelations(["in-domain-lora-wins"]);

  it("reproduced: pairs by seed, shows effect, interval, p, Holm p, n and the minimum effect", () => {
    // Differences 3, 4, 2 (mean 3, sd 1): t = 3√3 with 2 df, p = 1 − √(27/29) ≈ 0.035; one relation, so Holm p = p.
    const model = buildReport(
      preset,
      [e41],
      seeds,
      results(accuracies(e41, [81, 83, 80], [78, 79, 78])),
      lone,
    );
    const relation = model.relations[0]!;
    expect(relation.verdict).toBe("reproduced");
    expect(relation.comparison?.mean).toBeCloseTo(3, 12);
    expect(relation.comparison?.p).toBeCloseTo(1 - Math.sqrt(27 / 29), 12);
    expect(relation.holmP).toBeCloseTo(relation.comparison?.p as number, 15);
    expect(relation.comparison?.ci?.lower).toBeCloseTo(3 - 4.302653 / Math.sqrt(3), 5);
    expect(relation.comparison?.n).toBe(3);
    expect(relation.minEffect).toBe(1);
  });

  it("pairs by seed: a per-seed shift shared by both methods does not hide the difference", () => {
    // Unpaired, the seed offsets (0, 40, −30) swamp a 3-point gap; paired, it is the same test as above.
    const offsets = [0, 40, -30];
    const list = accuracies(
      e41,
      [81, 83, 80].map((v, i) => v + (offsets[i] as number)),
      [78, 79, 78].map((v, i) => v + (offsets[i] as number)),
    );
    const relation = buildReport(preset, [e41], seeds, results(list), lone).relations[0]!;
    expect(relation.verdict).toBe("reproduced");
    expect(relation.comparison?.p).toBeCloseTo(1 - Math.sqrt(27 / 29), 12);
  });

  it("contradicted: significant in the opposite direction", () => {
    const model = buildReport(
      preset,
      [e41],
      seeds,
      results(accuracies(e41, [78, 79, 78], [81, 83, 80])),
      lone,
    );
    expect(model.relations[0]).toMatchObject({ verdict: "contradicted" });
    expect(model.relations[0]!.reason).toMatch(/opposite direction/);
  });

  it("contradicted: the interval excludes the claimed minimum effect", () => {
    // LoRA ahead by 0.2 ± 0.03 points on every seed: real, but the claim needs at least 1 point.
    const list = accuracies(e41, [80.2, 80.25, 80.18], [80, 80.02, 80]);
    const relation = buildReport(preset, [e41], seeds, results(list), lone).relations[0]!;
    expect(relation.verdict).toBe("contradicted");
    expect(relation.reason).toMatch(/claimed effect is excluded/);
  });

  it("inconclusive: noisy differences, and a single seed", () => {
    const noisy = buildReport(
      preset,
      [e41],
      seeds,
      results(accuracies(e41, [80, 70, 90], [75, 78, 77])),
      lone,
    );
    expect(noisy.relations[0]!.verdict).toBe("inconclusive");
    const single = buildReport(preset, [e41], [0], results(accuracies(e41, [80], [60])), lone);
    expect(single.relations[0]).toMatchObject({ verdict: "inconclusive", holmP: null });
    expect(single.relations[0]!.reason).toMatch(/one seed/);
    const none = buildReport(preset, [e41], seeds, results([]), lone);
    expect(none.relations[0]!.verdict).toBe("no result");
  });

  it("Holm across the relations turns a lone 'reproduced' into 'inconclusive'", () => {
    // Accuracy differences 3, 4, 2 and CKA differences 0.03, 0.04, 0.02 give the same p ≈ 0.035 each; with both
    // tested, Holm multiplies the smaller by 2: 0.070 > 0.05.
    const list = [
      ...accuracies(e41, [81, 83, 80], [78, 79, 78]),
      ...[0.5, 0.5, 0.5].flatMap((v, seed) => [
        result(e41, "kora-dcomp4", seed, { ckaSim: [0.53, 0.54, 0.52][seed] as number }),
        result(e41, "lora-r8", seed, { ckaSim: v }),
      ]),
    ];
    // Both runs of a seed must carry both metrics: merge them by key.
    const merged = new Map<string, RunResult>();
    for (const r of list) {
      const prior = merged.get(r.key);
      merged.set(r.key, prior === undefined ? r : { ...prior, metrics: { ...prior.metrics, ...r.metrics } });
    }
    const alone = buildReport(preset, [e41], seeds, merged, lone);
    expect(alone.relations[0]!.verdict).toBe("reproduced");
    const both = buildReport(
      preset,
      [e41],
      seeds,
      merged,
      withRelations(["in-domain-lora-wins", "kora-higher-cka"]),
    );
    expect(both.relations.map((r) => r.verdict)).toEqual(["inconclusive", "inconclusive"]);
    expect(both.relations[0]!.holmP).toBeCloseTo(2 * (1 - Math.sqrt(27 / 29)), 12);
  });
});

describe("checks", () => {
  const e41 = byId("4.1");
  const seeds = [0, 1, 2];
  const signal: Check = checksSchema.parse({
    checks: [
      {
        id: "signal",
        title: "KoRA-8 beats LoRA and KoRA-4",
        experiment: "4.1",
        metric: "accuracy",
        better: "kora-dcomp8",
        worse: ["lora-r8", "kora-dcomp4"],
        minEffect: 2,
        higherIsBetter: true,
        onFailure: "the setup has no signal",
      },
    ],
  }).checks[0]!;
  const gated = withRelations(["in-domain-lora-wins"], { requires: ["signal"] });
  const strongClaim = accuracies(e41, [81, 83, 80], [78, 79, 78]);
  const kora8 = (values: number[]) =>
    values.map((v, seed) => result(e41, "kora-dcomp8", seed, { accuracy: v }));

  it("a failed required check suppresses the verdict and names the check and the comparison", () => {
    // KoRA-8 beats KoRA-4 by 2.33 (p ≈ 0.03) but trails LoRA by 0.67: the check fails on its first comparison.
    const list = [...strongClaim, ...kora8([80.5, 82, 79.5])];
    const model = buildReport(preset, [e41], seeds, results(list), gated, [signal]);
    expect(model.checks[0]!.status).toBe("failed");
    expect(model.checks[0]!.comparisons.map((c) => c.passed)).toEqual([false, true]);
    const relation = model.relations[0]!;
    expect(relation.verdict).toBe("not assessed");
    expect(relation.reason).toMatch(/^KoRA-8 beats LoRA and KoRA-4 failed \(.*vs LoRA \(r=8\): contradicted/);
    expect(relation.holmP).toBeNull();
  });

  it("a required check without data also suppresses the verdict; a passing one lets it through", () => {
    const missing = buildReport(preset, [e41], seeds, results(strongClaim), gated, [signal]);
    expect(missing.checks[0]!.status).toBe("no data");
    expect(missing.relations[0]!.verdict).toBe("not assessed");
    expect(missing.relations[0]!.reason).toMatch(/no data/);
    const passing = buildReport(
      preset,
      [e41],
      seeds,
      results([...strongClaim, ...kora8([90, 93, 91])]),
      gated,
      [signal],
    );
    expect(passing.checks[0]!.status).toBe("passed");
    expect(passing.relations[0]!.verdict).toBe("reproduced");
  });

  it("a margin check passes on the mean difference and shows the interval", () => {
    const margin = checksSchema.parse({
      checks: [
        {
          kind: "margin",
          id: "probe-margin",
          title: "LoRA ≥ KoRA-4 + 5 points",
          experiment: "4.1",
          metric: "accuracy",
          better: "lora-r8",
          worse: "kora-dcomp4",
          margin: 5,
          higherIsBetter: true,
        },
      ],
    }).checks;
    const below = buildReport(preset, [e41], seeds, results(strongClaim), claims, margin).checks[0]!;
    expect(below.status).toBe("failed");
    expect(below.comparisons[0]!.outcome).toBe("mean difference 3.00 < margin 5");
    expect(below.comparisons[0]!.comparison?.ci?.upper).toBeGreaterThan(5);
    const above = buildReport(
      preset,
      [e41],
      seeds,
      results(accuracies(e41, [86, 88, 85], [78, 79, 78])),
      claims,
      margin,
    );
    expect(above.checks[0]!.status).toBe("passed");
  });

  it("the shipped checks load with the shipped claims; a relation requiring an unknown check is an error", () => {
    const shipped = loadChecks(claims);
    expect(shipped.map((c) => c.id)).toContain("transfer-signal");
    const bad = withRelations(["in-domain-lora-wins"], { requires: ["nope"] });
    let code: string | null = null;
    try {
      validateChecks(bad, shipped);
    } catch (e) {
      code = (e as { code?: string }).code ?? null;
    }
    expect(code).toBe("INVALID_CHECKS");
  });
});

describe("the report's other sections", () => {
  it("names each task's own datasets in the 'not comparable' notes", () => {
    const e44 = byId("4.4");
    const variant = e44.variants[0]!;
    const model = buildReport(
      preset,
      [e44],
      [0],
      results([result(e44, variant.id, 0, { rmse: 1, absRel: 0.5 })]),
      claims,
    );
    const verdict = model.tables[0]!.rows[0]!.verdict;
    expect(verdict).toContain(`${preset.depth.dataset} on`);
    expect(verdict).toContain("not NYU Depth V2");
  });

  it("audits the paper's numbers from the claims file: the single-class F1 identity and the parameter shares", () => {
    const audit = auditPaper(claims);
    const t42 = audit.f1.filter((r) => r.table === "4.2");
    expect(t42.map((r) => r.holds)).toEqual([true, true, true, true]);
    expect(audit.f1.filter((r) => r.table === "4.1").some((r) => r.holds)).toBe(false);
    // 0.7104 → 2·0.7104/1.7104 = 0.83068...
    expect(t42[0]!.identity).toBeCloseTo((2 * 0.7104) / 1.7104, 12);
    expect(t42[0]!.singleClassF1).toBeCloseTo(t42[0]!.identity, 4);
    const qv = audit.shares[0]!;
    expect(qv.shareWithHead).toBeGreaterThan(0.42);
    expect(qv.shareWithHead).toBeLessThan(0.44);
    expect(qv.claimed).toBe(1.45);
    expect(audit.findings.join(" ")).toMatch(/closest to 1\.45 % is LoRA r=8 on every linear layer/);
    // Computed, not typed in: change a claimed F1 and its row stops obeying the identity.
    const edited = structuredClone(claims);
    edited.tables["4.2"]!.rows["LoRA (r=8)"]!["macroF1"] = 0.9;
    expect(auditPaper(edited).f1.find((r) => r.table === "4.2" && r.method === "LoRA (r=8)")!.holds).toBe(
      false,
    );
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
