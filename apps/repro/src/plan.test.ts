import { describe, expect, it } from "vitest";
import { loadExperiments } from "./config/experiments";
import { resolvePreset } from "./config/presets";
import type { TrainingMethod } from "./config/schema";
import { planRuns, runKey, selectExperiments } from "./plan";

const preset = resolvePreset("smoke");
const lora: TrainingMethod = { kind: "adapter", adapter: { method: "lora", rank: 8 } };

describe("run keys", () => {
  it("are the same for a method spelled with or without its defaults", () => {
    const explicit: TrainingMethod = { kind: "adapter", adapter: { method: "lora", rank: 8, alpha: 8 } };
    expect(runKey(preset, "source", lora, false, 0)).toBe(runKey(preset, "source", explicit, false, 0));
  });

  it("differ by task, method, label shuffling, seed and preset", () => {
    const base = runKey(preset, "source", lora, false, 0);
    const others = [
      runKey(preset, "dense", lora, false, 0),
      runKey(preset, "source", { kind: "full" }, false, 0),
      runKey(preset, "transfer", lora, true, 0),
      runKey(preset, "source", lora, false, 1),
      runKey({ ...preset, batchSize: preset.batchSize + 1 }, "source", lora, false, 0),
    ];
    expect(new Set([base, ...others]).size).toBe(6);
    expect(base).toMatch(/^source-lora-r8-[0-9a-f]{10}-s0$/);
  });

  it("ignore the preset's description and notes (they do not change a result)", () => {
    const noted = { ...preset, description: "other words", notes: ["a note"] };
    expect(runKey(noted, "source", lora, false, 0)).toBe(runKey(preset, "source", lora, false, 0));
  });

  it("are shared by the extended and default presets (extended = default + experiments), not by smoke", () => {
    const options = {
      fashionMnistRoot: process.env["KORA_FASHION_MNIST_ROOT"] ?? "/usr/share/datasets/fashion-mnist",
    };
    let extended: ReturnType<typeof resolvePreset>;
    let standard: ReturnType<typeof resolvePreset>;
    try {
      extended = resolvePreset("extended", options);
      standard = resolvePreset("default", options);
    } catch {
      // Without Fashion-MNIST the default cannot be resolved; compare two presets that differ only by name.
      extended = { ...preset, name: "extended" };
      standard = { ...preset, name: "default" };
    }
    expect(runKey(extended, "source", lora, false, 0)).toBe(runKey(standard, "source", lora, false, 0));
    expect(runKey(standard, "source", lora, false, 0)).not.toBe(runKey(preset, "source", lora, false, 0));
  });
});

describe("planRuns", () => {
  const experiments = loadExperiments();

  it("orders source → transfer → cka → compress → dense → segment, each seed in turn, every key once", () => {
    const runs = planRuns(preset, experiments, [0, 1]);
    const order = { source: 0, transfer: 1, cka: 2, compress: 3, dense: 4, segment: 5 };
    for (let i = 1; i < runs.length; i++) {
      const [a, b] = [runs[i - 1]!, runs[i]!];
      expect(order[a.task] < order[b.task] || (order[a.task] === order[b.task] && a.seed <= b.seed)).toBe(
        true,
      );
    }
    expect(new Set(runs.map((r) => r.key)).size).toBe(runs.length);
  });

  it("gives every transfer and CKA run the source run of its method and seed, planned before it", () => {
    const runs = planRuns(preset, selectExperiments(experiments, ["4.3"]), [0]);
    const position = new Map(runs.map((r, i) => [r.key, i]));
    const cka = runs.filter((r) => r.task === "cka");
    expect(cka.length).toBeGreaterThan(0);
    for (const run of cka) {
      const source = runs.find((r) => r.key === run.sourceKey);
      expect(source?.task).toBe("source");
      expect(source?.seed).toBe(run.seed);
      expect(source?.method).toEqual(run.method);
      expect(position.get(source!.key)!).toBeLessThan(position.get(run.key)!);
      // A source run added only because a CKA run loads it fills no table row itself.
      expect(source?.usedBy).toEqual([]);
    }
  });

  it("names runs for the progress line", () => {
    const [run] = planRuns(preset, selectExperiments(experiments, ["4.4"]), [1]);
    expect(run?.name).toMatch(/^dense .* seed 1$/);
    expect(run?.usedBy[0]).toMatch(/^4\.4\//);
  });

  it("gives every run of the whole plan its own progress name", () => {
    const runs = planRuns(preset, experiments, [0, 1]);
    const names = runs.map((run) => run.name);
    expect(new Set(names).size).toBe(runs.length);
    // The gate ablation's KoRA differs from 4.1's only by its gate's start: the names say which is which.
    const kora = runs.filter((run) => /^source kora\S* seed 0 \[/.test(run.name));
    expect(kora.length).toBeGreaterThan(1);
  });
});

describe("selectExperiments", () => {
  it("selects by exact id or by a prefix before '-', and everything without --only", () => {
    const experiments = loadExperiments();
    expect(selectExperiments(experiments, ["4.1", "4.4"]).map((e) => e.id)).toEqual(["4.1", "4.4"]);
    expect(selectExperiments(experiments, ["ablation"]).every((e) => e.id.startsWith("ablation-"))).toBe(
      true,
    );
    expect(selectExperiments(experiments, null)).toHaveLength(experiments.length);
    expect(selectExperiments(experiments, ["4"])).toEqual([]);
  });
});
