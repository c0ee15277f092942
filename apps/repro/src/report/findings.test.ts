import { describe, expect, it } from "vitest";
import { loadChecks, loadClaims } from "../claims";
import { resolvePreset } from "../config/presets";
import type { Experiment } from "../config/schema";
import type { RunResult } from "../results";
import { buildReport } from "./build";
import { assessFindings, type Finding, findingSchema, loadFindings, movedOverReach } from "./findings";
import { fakeResult, syntheticExperiments } from "./test-results";

const preset = resolvePreset("smoke");
const e41 = Object.values(syntheticExperiments()).find((e) => e.id === "4.1") as Experiment;
const claims = loadClaims();

function tablesOf(list: RunResult[]) {
  return buildReport(preset, [e41], [0, 1, 2, 3], new Map(list.map((r) => [r.key, r])), claims, []);
}

const difference = (minEffect: number): Finding =>
  findingSchema.parse({
    kind: "difference",
    id: "kora-vs-lora",
    question: "Does KoRA differ from LoRA?",
    experiment: "4.1",
    metric: "accuracy",
    a: "kora-dcomp4",
    b: "lora-r8",
    higherIsBetter: true,
    minEffect,
    context: "test",
  });

/** Four seeds of KoRA and LoRA accuracy with the given per-seed differences (KoRA − LoRA). */
function pairs(differences: number[]): RunResult[] {
  return differences.flatMap((d, seed) => [
    fakeResult(preset, e41, "lora-r8", seed, { accuracy: 70 + seed }),
    fakeResult(preset, e41, "kora-dcomp4", seed, { accuracy: 70 + seed + d }),
  ]);
}

describe("assessFindings", () => {
  it("answers yes for a significant difference of at least the minimum effect, no inside ±minEffect, else inconclusive", () => {
    const answer = (differences: number[], minEffect = 1) => {
      const model = tablesOf(pairs(differences));
      return assessFindings([difference(minEffect)], model.tables, model.checks)[0]!;
    };
    const yes = answer([3.1, 2.9, 3.0, 3.2]);
    expect(yes.answer).toBe("yes");
    expect(yes.reason).toMatch(/^KoRA/);
    expect(yes.comparison?.mean).toBeCloseTo(3.05, 10);
    expect(yes.n).toBe(4);
    // LoRA better: the answer names LoRA.
    expect(answer([-3.1, -2.9, -3.0, -3.2]).reason).toMatch(/^LoRA/);
    // Tight around zero: equivalent within ±1 point.
    expect(answer([0.1, -0.1, 0.05, -0.05]).answer).toBe("no");
    // Significant but smaller than what counts, and the interval reaches past it: inconclusive.
    expect(answer([0.5, 1.3, 0.7, 1.1]).answer).toBe("inconclusive");
    // Significant and smaller than what counts, the whole interval inside ±1: no effect that counts.
    expect(answer([0.7, 0.9, 0.8, 0.6]).answer).toBe("no");
    // Noisy: neither.
    expect(answer([4, -3, 2, -1]).answer).toBe("inconclusive");
  });

  it("a one-sided question (direction a-better) answers no when the difference goes significantly the other way", () => {
    const oneSided = findingSchema.parse({ ...difference(1), direction: "a-better" });
    const answer = (differences: number[]) => {
      const model = tablesOf(pairs(differences));
      return assessFindings([oneSided], model.tables, model.checks)[0]!;
    };
    expect(answer([3.1, 2.9, 3.0, 3.2]).answer).toBe("yes");
    const reverse = answer([-3.1, -2.9, -3.0, -3.2]);
    expect(reverse.answer).toBe("no");
    expect(reverse.reason).toMatch(/^the reverse holds: LoRA .* is better/);
    expect(answer([0.1, -0.1, 0.05, -0.05]).answer).toBe("no");
    expect(answer([4, -3, 2, -1]).answer).toBe("inconclusive");
    // Two-sided by default: the same reverse difference is a "yes, they differ".
    const twoSided = difference(1);
    expect(twoSided.kind === "difference" && twoSided.direction).toBe("either");
  });

  it("says 'not run' for an experiment the preset did not run, and 'not assessed' when a required check failed", () => {
    const model = tablesOf(pairs([3, 3, 3, 3]));
    const elsewhere = { ...difference(1), experiment: "extended-compress" };
    expect(assessFindings([elsewhere], model.tables, model.checks)[0]?.answer).toBe("not run");
    const checks = loadChecks(claims);
    const gated = { ...difference(1), requires: ["kora-adapter-active"] };
    const withChecks = buildReport(
      preset,
      [e41],
      [0, 1, 2, 3],
      new Map(pairs([3, 3, 3, 3]).map((r) => [r.key, r])),
      claims,
      checks,
    );
    const [result] = assessFindings([gated], withChecks.tables, withChecks.checks);
    // The check compares KoRA with the head alone, which this table has no runs of: it cannot pass.
    expect(result?.answer).toBe("not assessed");
  });

  it("ratio questions: moved over reach per seed, yes above the upper threshold, no below the lower", () => {
    const path = (fraction: number) => ({
      steps: [1, 2],
      reach: [0.01, 0.02],
      gates: [
        { block: 0, name: "layers.0.kora.gate", absMean: [0, 0], moved: [0.01, 0.02 * fraction] },
        { block: 1, name: "layers.1.kora.gate", absMean: [0, 0], moved: [0.01, 0.02 * fraction] },
      ],
    });
    expect(
      movedOverReach(fakeResult(preset, e41, "kora-dcomp4", 0, {}, { gateTrajectory: path(0.5) })),
    ).toBeCloseTo(0.5, 12);
    expect(movedOverReach(fakeResult(preset, e41, "kora-dcomp4", 0, {}, {}))).toBeNull();
    const ratio = findingSchema.parse({
      kind: "ratio",
      id: "speed",
      question: "Speed-limited?",
      experiment: "4.1",
      variant: "kora-dcomp4",
      yesAbove: 0.8,
      noBelow: 0.5,
      context: "test",
    });
    const answer = (fractions: number[]) => {
      const model = tablesOf(
        fractions.map((f, seed) =>
          fakeResult(preset, e41, "kora-dcomp4", seed, {}, { gateTrajectory: path(f) }),
        ),
      );
      return assessFindings([ratio], model.tables, model.checks)[0]!;
    };
    expect(answer([0.97, 0.98, 0.99, 0.98]).answer).toBe("yes");
    expect(answer([0.2, 0.25, 0.3, 0.2]).answer).toBe("no");
    expect(answer([0.2, 0.99, 0.6, 0.9]).answer).toBe("inconclusive");
    expect(answer([0.97, 0.98, 0.99, 0.98]).effect).toMatch(/^moved \/ reach 0\.98 \[/);
  });

  it("ships a findings file whose questions name real experiments, variants and checks", () => {
    const findings = loadFindings();
    expect(findings.length).toBeGreaterThanOrEqual(5);
    const checkIds = new Set(loadChecks(claims).map((c) => c.id));
    for (const f of findings) {
      if (f.kind === "difference")
        for (const id of f.requires) expect(checkIds.has(id), `${f.id}: ${id}`).toBe(true);
    }
    expect(findings.map((f) => f.id)).toContain("communication-accuracy");
  });
});
