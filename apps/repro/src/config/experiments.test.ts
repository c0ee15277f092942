import { countParameters, parseAdapterSpec } from "@kora/spec";
import { resolveViTConfig, toBackboneShape, type ViTConfigInput } from "@kora/vit";
import { describe, expect, it } from "vitest";
import { loadClaims } from "../claims";
import { planRuns, resolveMethod, selectExperiments } from "../plan";
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
      "4.5",
      "ablation-dcomp",
      "ablation-gate",
      "ablation-apply",
      "ablation-composition",
      "ablation-rank",
      "extended-paper-rows",
      "extended-compress",
    ]);
    // The d_comp, apply, composition and rank ablations, the compressibility study, the paper's other rows and the
    // segmentation table (18 training runs, past the default's budget on 2 cores) cost time for side questions:
    // only the extended preset (and smoke, which exercises every code path) runs them.
    expect(experiments.filter((e) => e.extended).map((e) => e.id)).toEqual([
      "4.5",
      "ablation-dcomp",
      "ablation-apply",
      "ablation-composition",
      "ablation-rank",
      "extended-paper-rows",
      "extended-compress",
    ]);
  });

  it("puts a control beside every table and KoRA's functional twins beside KoRA", () => {
    const ids = (id: string) => experiments.find((e) => e.id === id)?.variants.map((v) => v.id) ?? [];
    const twins = ["gated-bottleneck-h4", "gated-lora-r8", "lora-matched"];
    expect(ids("4.1")).toEqual(expect.arrayContaining([...twins, "pixel-probe", "head-only", "full"]));
    expect(ids("4.2")).toEqual(
      expect.arrayContaining([
        ...twins,
        "head-only",
        "lora-fresh",
        "lora-upstream",
        "full",
        "lora-r8-shuffled",
      ]),
    );
    expect(ids("4.4")).toEqual(expect.arrayContaining(["constant", "head-only"]));
    expect(ids("4.5")).toEqual(
      expect.arrayContaining(["lora-r8", "kora-dcomp4", ...twins, "constant", "head-only"]),
    );
    // The gate ablation has no duplicate arm: "fixed at 1" and "absent" are one function.
    const gate = experiments.find((e) => e.id === "ablation-gate")!;
    expect(gate.variants.map((v) => v.id)).toEqual(["learnable", "init-0-1", "init-1", "lr-x10"]);
  });

  it("resolves LoRA at KoRA's parameter count to the rank whose count is nearest, with alpha / rank kept", () => {
    const preset = resolvePreset("smoke");
    const matched = experiments.find((e) => e.id === "4.1")!.variants.find((v) => v.id === "lora-matched")!;
    const method = resolveMethod(preset, matched.method);
    if (method.kind !== "adapter") throw new Error("expected an adapter");
    const shape = toBackboneShape(resolveViTConfig(preset.model as ViTConfigInput));
    const kora = countParameters(
      parseAdapterSpec({ method: "kora", composition: { hidden: 4 } }),
      shape,
    ).adapter;
    const rank = Number(method.adapter["rank"]);
    const count = (r: number) =>
      countParameters(parseAdapterSpec({ ...method.adapter, rank: r, alpha: r }), shape).adapter;
    expect(Math.abs(count(rank) - kora)).toBeLessThanOrEqual(Math.abs(count(rank + 1) - kora));
    expect(Math.abs(count(rank) - kora)).toBeLessThanOrEqual(Math.abs(count(Math.max(1, rank - 1)) - kora));
    expect(Number(method.adapter["alpha"]) / rank).toBe(1);
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
    // KoRA d_comp=4 on the source task is one run per seed, used by 4.1 and three ablations.
    const kora = all.filter((r) => r.task === "source" && r.usedBy.includes("4.1/kora-dcomp4"));
    expect(kora).toHaveLength(3);
    expect(kora[0]?.usedBy).toEqual(
      expect.arrayContaining(["ablation-dcomp/dcomp4", "ablation-gate/learnable", "ablation-rank/r8"]),
    );
    // Source-adapted and upstream transfer runs load a source run; fresh ones do not.
    const only42 = planRuns(preset, selectExperiments(experiments, ["4.2"]), [0]);
    for (const run of only42.filter((r) => r.task === "transfer")) {
      expect(run.sourceKey === null).toBe(run.protocol === "fresh");
    }
    // lora, kora, gated bottleneck, gated LoRA, matched LoRA and full: six source runs feed the transfers.
    expect(only42.filter((r) => r.task === "source")).toHaveLength(6);
    for (const run of only42.filter((r) => r.task === "transfer" && r.sourceKey !== null)) {
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
      expect(experiment, relation.id).toBeDefined();
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
