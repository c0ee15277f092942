import { KoraError, parseAdapterSpec } from "@kora/spec";
import { getAdapterHandle } from "@kora/tfjs";
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { finetune } from "./fit";
import { gateValues, gateVariableNames } from "./gates";
import { disposeModel, modelVariables, prepareModel } from "./model";
import { classificationTask } from "./tasks/classification";
import { tinyClassification, tinyViT } from "./test-support/tiny";

const GATED = {
  kora: { method: "kora", rank: 2 },
  "gated-bottleneck": { method: "gated-bottleneck", gate: { per: "channel" } },
  "gated-lora": { method: "gated-lora", rank: 2 },
  "kora composed-qkv": { method: "kora", rank: 2, apply: "composed-qkv" },
} as const;

async function oneStep(input: object, gateLearningRateMultiplier?: number) {
  const vit = tinyViT(1);
  const task = classificationTask({ classes: 10 });
  prepareModel(vit, task, { kind: "adapter", spec: parseAdapterSpec(input) }, 3);
  const before = new Map([...modelVariables(vit)].map(([name, v]) => [name, Array.from(v.dataSync())]));
  const gates = gateVariableNames(vit);
  await finetune({
    vit,
    task,
    dataset: tinyClassification(8),
    batchSize: 8,
    steps: 1,
    learningRate: 1e-3,
    seed: 3,
    ...(gateLearningRateMultiplier === undefined ? {} : { gateLearningRateMultiplier }),
  });
  const after = new Map([...modelVariables(vit)].map(([name, v]) => [name, Array.from(v.dataSync())]));
  disposeModel(vit);
  return { before, after, gates };
}

describe("gateLearningRateMultiplier", () => {
  for (const [method, input] of Object.entries(GATED)) {
    it(`${method}: ×10 moves every gate 10× as far in Adam's first step (≈ lr·sign(g)), every other variable identically`, async () => {
      const one = await oneStep(input);
      const ten = await oneStep(input, 10);
      expect(one.gates.length).toBeGreaterThan(0);
      expect(one.before).toEqual(ten.before);
      for (const [name, after1] of one.after) {
        const after10 = ten.after.get(name) as number[];
        if (!one.gates.includes(name)) {
          expect(after10, name).toEqual(after1);
          continue;
        }
        const start = one.before.get(name) as number[];
        after1.forEach((value, i) => {
          const step1 = value - (start[i] as number);
          const step10 = (after10[i] as number) - (start[i] as number);
          // Adam's first step is lr·g/(|g| + ε) ≈ lr·sign(g) = 1e-3 here; ε = 1e-8 shortens it by ε/|g|, which is up
          // to 0.2 % for the smallest gate gradients of this tiny model (~5e-6). The ratio cancels that factor.
          expect(Math.abs(step1), name).toBeCloseTo(1e-3, 4);
          expect(step10 / step1, name).toBeCloseTo(10, 4);
        });
      }
    }, 60_000);
  }

  it("rejects a multiplier that is not a positive finite number (INVALID_ARGUMENT)", async () => {
    const vit = tinyViT(1);
    const task = classificationTask({ classes: 10 });
    prepareModel(vit, task, { kind: "adapter", spec: parseAdapterSpec(GATED.kora) }, 0);
    const base = {
      vit,
      task,
      dataset: tinyClassification(8),
      batchSize: 4,
      learningRate: 1e-3,
      seed: 0,
      steps: 1,
    };
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(finetune({ ...base, gateLearningRateMultiplier: bad })).rejects.toSatisfy(
        (error: unknown) => KoraError.isInstance(error) && error.path === "gateLearningRateMultiplier",
      );
    }
    disposeModel(vit);
  });
});

describe("gateValues", () => {
  it("reads the active adapter's gates per block: KoRA scalar, gated-bottleneck per channel, gated LoRA per projection", () => {
    const task = classificationTask({ classes: 10 });
    const set = (vit: ReturnType<typeof tinyViT>, values: (name: string, size: number) => number[]) => {
      const handle = getAdapterHandle(vit);
      for (const [name, variable] of handle?.adapterVariables() ?? []) {
        if (name.endsWith(".gate")) variable.assign(tf.tensor(values(name, variable.size), variable.shape));
      }
    };

    const kora = tinyViT(1);
    prepareModel(kora, task, { kind: "adapter", spec: parseAdapterSpec(GATED.kora) }, 0);
    set(kora, (name) => [name.startsWith("layers.0") ? 0.25 : -0.5]);
    expect(gateValues(kora)).toEqual([
      { block: 0, name: "layers.0.kora.gate", values: [0.25], mean: 0.25, absMean: 0.25 },
      { block: 1, name: "layers.1.kora.gate", values: [-0.5], mean: -0.5, absMean: 0.5 },
    ]);
    disposeModel(kora);

    const bottleneck = tinyViT(1);
    prepareModel(bottleneck, task, { kind: "adapter", spec: parseAdapterSpec(GATED["gated-bottleneck"]) }, 0);
    // 24 channels: alternating ±0.5, so the mean is 0 and the absolute mean 0.5.
    set(bottleneck, (_name, size) => Array.from({ length: size }, (_, i) => (i % 2 === 0 ? 0.5 : -0.5)));
    const channel = gateValues(bottleneck);
    expect(channel.map((g) => [g.block, g.name, g.values.length, g.mean, g.absMean])).toEqual([
      [0, "layers.0.bottleneck.gate", 24, 0, 0.5],
      [1, "layers.1.bottleneck.gate", 24, 0, 0.5],
    ]);
    disposeModel(bottleneck);

    const lora = tinyViT(1);
    prepareModel(lora, task, { kind: "adapter", spec: parseAdapterSpec(GATED["gated-lora"]) }, 0);
    set(lora, (name) => [name.includes("query") ? 0.125 : 2]);
    expect(gateValues(lora).map((g) => [g.block, g.name, g.values])).toEqual([
      [0, "layers.0.query.gate", [0.125]],
      [0, "layers.0.value.gate", [2]],
      [1, "layers.1.query.gate", [0.125]],
      [1, "layers.1.value.gate", [2]],
    ]);
    expect(gateVariableNames(lora)).toEqual([
      "adapter.layers.0.query.gate",
      "adapter.layers.0.value.gate",
      "adapter.layers.1.query.gate",
      "adapter.layers.1.value.gate",
    ]);
    disposeModel(lora);
  });

  it("lists KoRA composed-qkv's three gates per block under distinct names, in layout order", () => {
    const task = classificationTask({ classes: 10 });
    const vit = tinyViT(1);
    prepareModel(vit, task, { kind: "adapter", spec: parseAdapterSpec(GATED["kora composed-qkv"]) }, 0);
    const handle = getAdapterHandle(vit);
    const targets = ["query", "key", "value"];
    for (const [name, variable] of handle?.adapterVariables() ?? []) {
      const target = targets.findIndex((t) => name.endsWith(`.${t}.gate`));
      if (target >= 0)
        variable.assign(tf.tensor([Number(name.split(".")[1]) + (target + 1) / 8], variable.shape));
    }
    const gates = gateValues(vit);
    expect(gates.map((g) => [g.block, g.name, g.values])).toEqual([
      [0, "layers.0.kora.query.gate", [0.125]],
      [0, "layers.0.kora.key.gate", [0.25]],
      [0, "layers.0.kora.value.gate", [0.375]],
      [1, "layers.1.kora.query.gate", [1.125]],
      [1, "layers.1.kora.key.gate", [1.25]],
      [1, "layers.1.kora.value.gate", [1.375]],
    ]);
    expect(new Set(gateVariableNames(vit)).size).toBe(6);
    disposeModel(vit);
  });

  it("is empty for a method without gates, a fixed gate and a model without adapter", () => {
    const task = classificationTask({ classes: 10 });
    for (const method of [
      { kind: "adapter" as const, spec: parseAdapterSpec({ method: "lora", rank: 2 }) },
      {
        kind: "adapter" as const,
        spec: parseAdapterSpec({ method: "kora", rank: 2, gate: { mode: "fixed", init: 1 } }),
      },
      { kind: "head-only" as const },
    ]) {
      const vit = tinyViT(1);
      prepareModel(vit, task, method, 0);
      expect(gateValues(vit)).toEqual([]);
      disposeModel(vit);
    }
  });
});
