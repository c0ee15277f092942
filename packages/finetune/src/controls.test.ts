import { classSubsetDataset, openSyntheticDataset, openSyntheticDepthDataset } from "@kora/datasets";
import { selectBackend } from "@kora/tfjs";
import { resolveViTConfig } from "@kora/vit";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { evaluatePixelProbe, trainPixelProbe } from "./pixel-probe";
import { depthTask, medianDepth } from "./tasks/depth";

beforeAll(async () => {
  await selectBackend({ prefer: "cpu" });
});

describe("the pixel linear probe", () => {
  const config = resolveViTConfig({ preset: "vit-micro", imageSize: 16, patchSize: 4 });
  const data = classSubsetDataset(openSyntheticDataset("synthetic-source", { trainSize: 300 }), [0, 1, 2, 3]);

  it("learns a separable task above chance, the same weights for the same seed, and frees its tensors", async () => {
    const before = tf.memory().numTensors;
    const train = async (seed: number) =>
      trainPixelProbe({ config, dataset: data, batchSize: 16, steps: 40, learningRate: 1e-2, seed });
    const a = await train(3);
    const b = await train(3);
    expect(Array.from(a.variables().weight.dataSync())).toEqual(Array.from(b.variables().weight.dataSync()));
    const scores = await evaluatePixelProbe(a, config, data, { batchSize: 32 });
    expect(scores.examples).toBe(data.size);
    expect(scores.accuracy).toBeGreaterThan(0.25 + 0.15);
    a.dispose();
    b.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("rejects a bad budget with INVALID_ARGUMENT", async () => {
    await expect(
      trainPixelProbe({ config, dataset: data, batchSize: 16, steps: 0, learningRate: 1e-2, seed: 0 }),
    ).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(
      trainPixelProbe({ config, dataset: data, batchSize: 16, steps: 5, learningRate: 0, seed: 0 }),
    ).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });
});

describe("medianDepth and a depth head that starts at it", () => {
  const depth = openSyntheticDepthDataset({ trainSize: 20 });

  it("is the median of the valid depths of the items read (checked by sorting them here)", () => {
    const items = [0, 3, 7];
    const values = items
      .flatMap((i) => Array.from(depth.get(i).depth))
      .filter((d) => d >= 0.5 && d <= 10)
      .sort((x, y) => x - y);
    const mid = values.length >> 1;
    const expected = values.length % 2 === 1 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2;
    expect(medianDepth(depth, { indices: items, range: [0.5, 10] })).toBeCloseTo(expected, 6);
    expect(medianDepth(depth, { indices: [], range: [2, 4] })).toBe(3);
  });

  it("initialDepth sets the fresh head's output to that depth everywhere (exp of its bias)", () => {
    const config = resolveViTConfig({ preset: "vit-micro" });
    const head = depthTask({ initialDepth: 2.5 }).createHead(config, 0);
    const bias = head.variables()[1]!.dataSync();
    for (const b of bias) expect(Math.exp(b)).toBeCloseTo(2.5, 5);
    head.dispose();
    expect(() => depthTask({ initialDepth: 0 })).toThrow(/initialDepth/);
    expect(() => depthTask({ initialDepth: Number.NaN })).toThrow(/initialDepth/);
  });
});
