import { KoraError } from "@kora/spec";
import { resolveViTConfig } from "@kora/vit";
import { describe, expect, it } from "vitest";
import { type TensorBatch, tensorBatches } from "./batches";
import { disposeTensors } from "./evaluate";
import { TINY_VIT, tinyClassification, tinyDepth } from "./test-support/tiny";

const config = resolveViTConfig(TINY_VIT);

async function order(
  seed: number,
  epoch: number,
  indices?: number[],
): Promise<{ items: number[]; labels: number[]; shapes: number[][] }> {
  const dataset = tinyClassification(20);
  const items: number[] = [];
  const labels: number[] = [];
  const shapes: number[][] = [];
  for await (const batch of tensorBatches(dataset, config, { batchSize: 6, indices }, { seed, epoch })) {
    if (batch.kind !== "classification") throw new Error("expected a classification batch");
    items.push(...batch.indices);
    labels.push(...batch.labels.dataSync());
    shapes.push(batch.images.shape);
    disposeTensors(batch);
  }
  return { items, labels, shapes };
}

describe("tensorBatches", () => {
  it("gives the same order for the same seed and epoch", async () => {
    expect((await order(3, 0)).items).toEqual((await order(3, 0)).items);
  });

  it("gives another order for another seed, and for another epoch", async () => {
    const base = (await order(3, 0)).items;
    expect((await order(4, 0)).items).not.toEqual(base);
    expect((await order(3, 1)).items).not.toEqual(base);
  });

  it("visits every example exactly once per epoch, in ViT input layout", async () => {
    const { items, shapes, labels } = await order(7, 2);
    expect([...items].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(shapes).toEqual([
      [6, 16, 16, 3],
      [6, 16, 16, 3],
      [6, 16, 16, 3],
      [2, 16, 16, 3],
    ]);
    const dataset = tinyClassification(20);
    expect(labels).toEqual(items.map((i) => dataset.label(i)));
  });

  it("keeps to a subset of indices", async () => {
    const subset = [1, 4, 9, 16];
    const { items } = await order(0, 0, subset);
    expect([...items].sort((a, b) => a - b)).toEqual(subset);
  });

  it("replaces labels item by item", async () => {
    const dataset = tinyClassification(20);
    const indices = [2, 5, 11];
    const labels = Int32Array.from([9, 8, 7]);
    const seen = new Map<number, number>();
    for await (const batch of tensorBatches(
      dataset,
      config,
      { batchSize: 2, indices, labels },
      { seed: 1, epoch: 0 },
    )) {
      const b = batch as Extract<TensorBatch, { kind: "classification" }>;
      for (const [k, index] of b.indices.entries()) seen.set(index, b.labels.dataSync()[k]!);
      disposeTensors(batch);
    }
    expect(Object.fromEntries(seen)).toEqual({ 2: 9, 5: 8, 11: 7 });
  });

  it("gives depth batches with a mask over the requested range", async () => {
    const dataset = tinyDepth(4);
    for await (const batch of tensorBatches(dataset, config, { batchSize: 4, depthRange: [0.5, 3] })) {
      if (batch.kind !== "depth") throw new Error("expected a depth batch");
      expect(batch.depths.shape).toEqual([4, 16, 16, 1]);
      const mask = batch.mask.dataSync();
      batch.depthValues.forEach((d, i) => {
        expect(mask[i]).toBe(d > 0.5 && d <= 3 ? 1 : 0);
      });
      disposeTensors(batch);
    }
  });

  it("rejects labels of the wrong length with INVALID_ARGUMENT", async () => {
    const run = async () => {
      for await (const batch of tensorBatches(tinyClassification(20), config, {
        batchSize: 4,
        indices: [0, 1],
        labels: Int32Array.from([1]),
      }))
        disposeTensors(batch);
    };
    await expect(run()).rejects.toSatisfy(
      (error: unknown) =>
        KoraError.isInstance(error) && error.code === "INVALID_ARGUMENT" && error.path === "labels",
    );
  });
});
