import { openSyntheticDataset } from "@kora/datasets";
import { KoraError } from "@kora/spec";
import type { ViT } from "@kora/vit";
import { describe, expect, it } from "vitest";
import { evaluateTask } from "./evaluate";
import { disposeModel, modelVariables } from "./model";
import { pretrain } from "./pretrain";
import { classificationTask } from "./tasks/classification";
import { TINY_VIT, tinyClassification } from "./test-support/tiny";

/** Every variable of the model (head included), by name, as float32 bits. */
function weights(vit: ViT): Map<string, Uint32Array> {
  return new Map(
    [...modelVariables(vit)].map(([name, v]) => [
      name,
      new Uint32Array(Float32Array.from(v.dataSync()).buffer),
    ]),
  );
}

const short = { model: TINY_VIT, batchSize: 4, steps: 3 } as const;

async function trained(seed: number): Promise<Map<string, Uint32Array>> {
  const { vit } = await pretrain({ ...short, dataset: tinyClassification(12), seed });
  try {
    return weights(vit);
  } finally {
    disposeModel(vit);
  }
}

async function errorOf(run: () => Promise<unknown>): Promise<KoraError> {
  const error = await run().then(
    () => null,
    (e: unknown) => e,
  );
  expect(KoraError.isInstance(error), String(error)).toBe(true);
  return error as KoraError;
}

describe("pretrain", () => {
  it("is deterministic: the same options give the same weights bit for bit, another seed others", async () => {
    const a = await trained(5);
    const b = await trained(5);
    const c = await trained(6);
    expect(a.size).toBeGreaterThan(10);
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [name, bits] of a) expect(b.get(name), name).toEqual(bits);
    const differing = [...a].filter(([name, bits]) => {
      const other = c.get(name)!;
      return bits.some((value, i) => value !== other[i]);
    });
    // The seed draws the initialisation of every weight matrix (norms start at 1/0 and may train alike).
    expect(differing.length).toBeGreaterThan(a.size / 2);
  });

  it("trains every weight and gives the head one output per class of the dataset by default", async () => {
    const dataset = tinyClassification(12);
    const { vit, step, totalSteps } = await pretrain({ ...short, dataset, seed: 1 });
    try {
      expect({ step, totalSteps }).toEqual({ step: 3, totalSteps: 3 });
      expect(vit.config.numClasses).toBe(dataset.classes.length);
      expect(vit.config.depth).toBe(TINY_VIT.depth);
    } finally {
      disposeModel(vit);
    }
  });

  it("sizes the head from the labels given (max + 1), or from `classes`", async () => {
    const dataset = tinyClassification(12);
    const indices = Int32Array.from({ length: 12 }, (_, i) => i);
    const labels = Int32Array.from(indices, (i) => i % 3);
    const fromLabels = await pretrain({ ...short, dataset, indices, labels, seed: 1 });
    expect(fromLabels.vit.config.numClasses).toBe(3);
    disposeModel(fromLabels.vit);
    const explicit = await pretrain({ ...short, dataset, indices, labels, classes: 7, seed: 1 });
    expect(explicit.vit.config.numClasses).toBe(7);
    disposeModel(explicit.vit);
  });

  it("refuses a label outside the head and a head of fewer than 2 classes (INVALID_ARGUMENT)", async () => {
    const dataset = tinyClassification(12);
    const indices = Int32Array.from({ length: 4 }, (_, i) => i);
    const outside = await errorOf(() =>
      pretrain({ ...short, dataset, indices, labels: Int32Array.of(0, 1, 4, 2), classes: 4, seed: 0 }),
    );
    expect(outside.code).toBe("INVALID_ARGUMENT");
    expect(outside.message).toMatch(/labels\[2\] is 4; a 4-class head/);
    const negative = await errorOf(() =>
      pretrain({ ...short, dataset, indices, labels: Int32Array.of(0, -1, 1, 1), seed: 0 }),
    );
    expect(negative.code).toBe("INVALID_ARGUMENT");
    expect(negative.message).toContain("labels[1] is -1");
    const one = await errorOf(() => pretrain({ ...short, dataset, classes: 1, seed: 0 }));
    expect(one.code).toBe("INVALID_ARGUMENT");
    expect(one.message).toContain("classes must be an integer ≥ 2");
  });

  it("learns: a tiny ViT fits 32 synthetic-pretrain images (10 texture labels) far above chance in 40 steps", async () => {
    // The suite has 100 classes (shape × texture; global id = shape × 10 + texture, all 100 in order, item i of
    // class i mod 100); the first 32 items' 10 textures are the labels. Held-out accuracy needs far more steps than a unit test affords on two cores, so this
    // checks that the whole-model optimisation works: the training images are fitted, the loss falls from ln 10.
    const dataset = openSyntheticDataset("synthetic-pretrain", {
      split: "train",
      imageSize: 16,
      trainSize: 32,
    });
    const indices = Int32Array.from({ length: dataset.size }, (_, i) => i);
    const labels = Int32Array.from(indices, (i) => dataset.label(i) % 10);
    const losses: number[] = [];
    const { vit } = await pretrain({
      model: TINY_VIT,
      dataset,
      indices,
      labels,
      batchSize: 16,
      steps: 40,
      learningRate: 3e-3,
      seed: 0,
      onStep: (event) => {
        losses.push(event.loss);
      },
    });
    try {
      expect(vit.config.numClasses).toBe(10);
      const scores = await evaluateTask(vit, classificationTask({ classes: 10 }), dataset, {
        batchSize: 32,
        indices,
        labels,
      });
      // Chance is 10 %.
      expect(scores.accuracy).toBeGreaterThan(0.5);
      const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
      expect(mean(losses.slice(-4))).toBeLessThan(mean(losses.slice(0, 4)) - 0.5);
    } finally {
      disposeModel(vit);
    }
  }, 60_000);
});
