import { describe, expect, it } from "vitest";
import { loadClaims } from "../claims";
import { planRuns, selectExperiments } from "../plan";
import { loadExperiments, parseExperiment } from "./experiments";
import { resolvePreset } from "./presets";

describe("experiments as data", () => {
  const experiments = loadExperiments();

  it("ships one valid file per experiment of the issue", () => {
    expect(experiments.map((e) => e.id)).toEqual([
      "4.1",
      "4.2",
      "4.3",
      "4.4",
      "ablation-dcomp",
      "ablation-gate",
      "ablation-apply",
      "ablation-composition",
      "ablation-rank",
      "controls",
    ]);
  });

  it("names the file and the field of an invalid experiment", () => {
    const bad = JSON.stringify({
      id: "x",
      title: "x",
      description: "x",
      metrics: ["accuracy"],
      variants: [
        { id: "a", label: "a", task: "source", method: { kind: "adapter", adapter: { method: "dora" } } },
      ],
    });
    expect(() => parseExperiment(bad, "bad.json")).toThrow(/bad\.json: variants\.0\.method\.adapter\.method/);
    const shuffled = JSON.stringify({
      id: "x",
      title: "x",
      description: "x",
      metrics: ["accuracy"],
      variants: [{ id: "a", label: "a", task: "source", method: { kind: "full" }, shuffleLabels: true }],
    });
    expect(() => parseExperiment(shuffled, "s.json")).toThrow(/s\.json: variants\.0\.shuffleLabels/);
  });

  it("shares runs between experiments that ask for the same thing and adds the source runs transfer needs", () => {
    const preset = resolvePreset("smoke");
    const all = planRuns(preset, experiments, [0, 1, 2]);
    const keys = new Set(all.map((r) => r.key));
    expect(keys.size).toBe(all.length);
    // KoRA d_comp=4 on the source task is one run per seed, used by 4.1, four ablations and the controls.
    const kora = all.filter((r) => r.task === "source" && r.usedBy.includes("4.1/kora-dcomp4"));
    expect(kora).toHaveLength(3);
    expect(kora[0]?.usedBy).toEqual(
      expect.arrayContaining([
        "ablation-dcomp/dcomp4",
        "ablation-gate/learnable",
        "ablation-rank/r8",
        "controls/kora-dcomp4",
      ]),
    );
    const only42 = planRuns(preset, selectExperiments(experiments, ["4.2"]), [0]);
    expect(only42.filter((r) => r.task === "source")).toHaveLength(4);
    for (const run of only42.filter((r) => r.task === "transfer")) {
      expect(only42.some((r) => r.key === run.sourceKey)).toBe(true);
    }
    expect(selectExperiments(experiments, ["ablation"]).map((e) => e.id)).toHaveLength(5);
  });

  it("keeps the paper's numbers in one cited claims file", () => {
    const claims = loadClaims();
    expect(claims.url).toMatch(/^https:\/\/github\.com\/OnePunchMonk\/KoRA\//);
    expect(claims.tables["4.1"]?.rows["LoRA (r=8)"]?.["accuracy"]).toBe(92.48);
    expect(claims.tables["4.2"]?.rows["KoRA (d_comp=4)"]?.["accuracy"]).toBe(97.37);
    expect(claims.tables["4.4"]?.rows["KoRA"]?.["rmse"]).toBe(0.3327);
    for (const relation of claims.relations) {
      const experiment = experiments.find((e) => e.id === relation.experiment);
      expect(experiment?.variants.map((v) => v.id)).toEqual(
        expect.arrayContaining([relation.better, relation.worse]),
      );
    }
  });

  it("lists every missing file of the paper preset", () => {
    expect(() =>
      resolvePreset("paper", { dataRoot: "/nonexistent", weights: "/nonexistent/vit.safetensors" }),
    ).toThrow(/cifar-100-binary\/train\.bin[\s\S]*tiny-imagenet-200[\s\S]*nyu[\s\S]*vit\.safetensors/);
    expect(() => resolvePreset("paper")).toThrow(/--data-root[\s\S]*--weights/);
  });
});
