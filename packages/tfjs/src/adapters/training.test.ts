import { adapterTensorLayout, parseAdapterSpec } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { type AdapterSpecInput, applyAdapters, removeAdapters } from "./index";
import { maxAbsDiff, randomizeAdapter } from "./test-support/helpers";
import { TINY_SHAPE, TinyTransformer, tinyBatch } from "./test-support/tiny-transformer";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const models: TinyTransformer[] = [];
function tiny(shape = TINY_SHAPE, seed = 7): TinyTransformer {
  const model = new TinyTransformer(shape, seed);
  models.push(model);
  return model;
}
afterEach(() => {
  for (const model of models.splice(0)) {
    removeAdapters(model);
    model.dispose();
  }
});

/** A batch whose labels a model can learn: the class is the sign pattern of two input coordinates. */
function batch(size: number, seed: number): { x: tf.Tensor3D; y: tf.Tensor2D } {
  const x = tinyBatch(TINY_SHAPE, size, seed);
  const y = tf.tidy(() => {
    const first = tf.slice(x, [0, 0, 0], [size, 1, 2]).reshape([size, 2]);
    const cls = tf.add(
      tf.cast(tf.greater(tf.slice(first, [0, 0], [size, 1]), 0), "int32"),
      tf.cast(tf.greater(tf.slice(first, [0, 1], [size, 1]), 0.5), "int32"),
    );
    return tf.oneHot(cls.reshape([size]), TINY_SHAPE.numClasses).toFloat() as tf.Tensor2D;
  });
  return { x, y };
}

describe("KoRA initialisation", () => {
  const variants: Record<string, AdapterSpecInput> = {
    "mlp composition, scalar gate": { method: "kora", rank: 4 },
    "attention composition, channel gate": {
      method: "kora",
      rank: 4,
      composition: { kind: "attention" },
      gate: { per: "channel" },
    },
  };
  for (const [label, input] of Object.entries(variants)) {
    it(`${label}: equal to the base model at init; step 1 moves the gate, step 2 moves A, B and the composition`, () => {
      const model = tiny();
      const { x, y } = batch(16, 60);
      const base = model.predict(x);
      const handle = applyAdapters(model, input, { seed: 9 });
      const adapted = model.predict(x);
      expect(maxAbsDiff(adapted, base)).toBe(0);
      const spec = parseAdapterSpec(input);
      const variables = [...handle.adapterVariables().entries()];
      const snapshot = () => new Map(variables.map(([name, v]) => [name, v.clone()]));
      const changed = (before: Map<string, tf.Tensor>) =>
        variables
          .filter(([name, v]) => maxAbsDiff(v, before.get(name) as tf.Tensor) > 0)
          .map(([name]) => name);
      const optimizer = tf.train.adam(1e-2);
      const step = () =>
        optimizer.minimize(
          () => tf.losses.softmaxCrossEntropy(y, model.predict(x, true)) as tf.Scalar,
          false,
          handle.trainableVariables(),
        );
      const initial = snapshot();
      step();
      const afterOne = changed(initial);
      // With g = 0 only the gate has a gradient at init (every other path is multiplied by g).
      expect(afterOne).toEqual(variables.map(([n]) => n).filter((n) => n.endsWith(".gate")));
      step();
      const afterTwo = new Set(changed(initial));
      for (const [name] of variables) expect(afterTwo.has(name), `${name} did not move`).toBe(true);
      const groups = new Set(
        adapterTensorLayout(spec, TINY_SHAPE, { includeHead: false }).map((t) => t.group),
      );
      expect(groups).toEqual(new Set(["lora_A", "lora_B", "composition", "gate"]));
      tf.dispose([x, y, base, adapted, [...initial.values()]]);
      optimizer.dispose();
    });
  }

  it("zero B would be a dead adapter: B_t ~ N(0, bInitStd²) as documented", () => {
    const model = tiny({ ...TINY_SHAPE, dim: 64, heads: 4, mlpDim: 128 });
    const handle = applyAdapters(model, { method: "kora", rank: 8, bInitStd: 0.05 });
    const values = [...handle.adapterVariables().entries()]
      .filter(([n]) => n.endsWith("lora_B"))
      .flatMap(([, v]) => Array.from(v.dataSync()));
    const std = Math.sqrt(values.reduce((s, v) => s + v * v, 0) / values.length);
    expect(values.length).toBe(2 * 3 * 8 * 64);
    expect(std).toBeGreaterThan(0.05 * 0.95);
    expect(std).toBeLessThan(0.05 * 1.05);
    for (const [name, v] of handle.adapterVariables())
      if (name.endsWith(".gate")) expect(Array.from(v.dataSync())).toEqual([0]);
  });
});

describe("LoRA numerics", () => {
  it("initialises as peft: kaiming A ~ U(±1/√in), gaussian A ~ N(0, (1/r)²), B = 0", () => {
    const shape = { ...TINY_SHAPE, dim: 64, heads: 4, mlpDim: 128 };
    const model = tiny(shape);
    const handle = applyAdapters(
      model,
      { method: "lora", rank: 8, targets: ["query", "fc2"] },
      { name: "k" },
    );
    applyAdapters(model, { method: "lora", rank: 8, init: "gaussian" }, { name: "g" });
    const stats = (name: string, filter: (n: string) => boolean) => {
      const entries = [...handle.adapterVariables(name).entries()].filter(([n]) => filter(n));
      const values = entries.flatMap(([, v]) => Array.from(v.dataSync()));
      return {
        values,
        std: Math.sqrt(values.reduce((s, v) => s + v * v, 0) / values.length),
        max: Math.max(...values.map(Math.abs)),
      };
    };
    const queryA = stats("k", (n) => n.endsWith("query.lora_A"));
    expect(queryA.max).toBeLessThanOrEqual(1 / Math.sqrt(64));
    expect(queryA.std / (1 / Math.sqrt(64) / Math.sqrt(3))).toBeCloseTo(1, 1);
    const fc2A = stats("k", (n) => n.endsWith("fc2.lora_A"));
    expect(fc2A.max).toBeLessThanOrEqual(1 / Math.sqrt(128));
    expect(fc2A.max).toBeGreaterThan(0.9 / Math.sqrt(128));
    const gaussianA = stats("g", (n) => n.endsWith("lora_A"));
    expect(gaussianA.std / (1 / 8)).toBeCloseTo(1, 1);
    for (const name of ["k", "g"]) expect(stats(name, (n) => n.endsWith("lora_B")).max).toBe(0);
  });

  for (const rslora of [false, true]) {
    it(`scales the update by ${rslora ? "α/√r (rsLoRA)" : "α/r"}`, () => {
      const model = tiny();
      const handle = applyAdapters(model, { method: "lora", rank: 4, alpha: 6, rslora, targets: ["value"] });
      randomizeAdapter(handle, 70);
      const site = model.attentionSites[1]!.value;
      const x = tf.randomNormal([5, 8], 0, 1, "float32", 71) as tf.Tensor2D;
      const variables = handle.adapterVariables();
      const a = variables.get("layers.1.value.lora_A")!;
      const b = variables.get("layers.1.value.lora_B")!;
      const scale = rslora ? 6 / Math.sqrt(4) : 6 / 4;
      const expected = tf.tidy(() => tf.add(site.base(x), tf.mul(tf.matMul(tf.matMul(x, a), b), scale)));
      const got = site.apply(x, false);
      expect(maxAbsDiff(got, expected)).toBeLessThan(1e-5);
      tf.dispose([x, expected, got]);
    });
  }
});

describe("dropout", () => {
  it("is seeded: same seed ⇒ same masks; consecutive steps differ; evaluation is deterministic", () => {
    const outputs = (seed: number, calls: number) => {
      const model = tiny();
      const handle = applyAdapters(
        model,
        { method: "lora", dropout: 0.5, targets: ["query", "value"] },
        { seed },
      );
      randomizeAdapter(handle, 80, 1);
      const x = tinyBatch(TINY_SHAPE, 4, 81);
      const result = Array.from({ length: calls }, () => model.predict(x, true));
      const evaluation = [model.predict(x, false), model.predict(x, false)];
      handle.setActiveAdapter("default");
      tf.dispose(x);
      return { result, evaluation };
    };
    const first = outputs(5, 2);
    const again = outputs(5, 2);
    const other = outputs(6, 1);
    expect(maxAbsDiff(first.result[0]!, again.result[0]!)).toBe(0);
    expect(maxAbsDiff(first.result[1]!, again.result[1]!)).toBe(0);
    expect(maxAbsDiff(first.result[0]!, first.result[1]!)).toBeGreaterThan(1e-4);
    expect(maxAbsDiff(first.result[0]!, other.result[0]!)).toBeGreaterThan(1e-4);
    expect(maxAbsDiff(first.evaluation[0]!, first.evaluation[1]!)).toBe(0);
    expect(maxAbsDiff(first.evaluation[0]!, first.result[0]!)).toBeGreaterThan(1e-4);
    tf.dispose([first, again, other].flatMap((o) => [...o.result, ...o.evaluation]));
  });
});

describe("training", () => {
  const methods: Record<string, AdapterSpecInput> = {
    LoRA: { method: "lora", rank: 4, dropout: 0.1, targets: ["query", "value", "fc1"] },
    KoRA: { method: "kora", rank: 4, dropout: 0.1 },
    AdapterFusion: { method: "adapter-fusion", reduction: 4, fusion: { variant: "dynamic" } },
  };
  for (const [label, input] of Object.entries(methods)) {
    it(`${label}: 20 Adam steps leak no tensors and lower the loss`, () => {
      const model = tiny();
      const handle = applyAdapters(model, input, { seed: 3 });
      const { x, y } = batch(32, 90);
      const optimizer = tf.train.adam(1e-2);
      const lossOf = () => tf.losses.softmaxCrossEntropy(y, model.predict(x, true)) as tf.Scalar;
      const step = () => {
        const loss = optimizer.minimize(lossOf, true, handle.trainableVariables()) as tf.Scalar;
        const value = loss.dataSync()[0] as number;
        loss.dispose();
        return value;
      };
      const first = step(); // creates Adam's slot variables
      const before = tf.memory().numTensors;
      let last = first;
      for (let i = 0; i < 20; i++) last = step();
      expect(tf.memory().numTensors).toBe(before);
      expect(last).toBeLessThan(first * 0.9);
      optimizer.dispose();
      tf.dispose([x, y]);
    }, 30_000);
  }
});
