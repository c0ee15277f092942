import { describe, expect, it } from "vitest";
import { openSyntheticDepthDataset } from "../synthetic/depth-scene";
import { openSyntheticDataset } from "../synthetic/synthetic-dataset";
import type { ClassificationDataset } from "../types";
import { batchCount, epochOrder, iterateBatches, loadBatch } from "./batches";
import { cropAndFlip, NORMALIZATIONS, normalizeInPlace, resizeBilinear } from "./image-ops";
import { shuffledIndices } from "./shuffle";
import { stratifiedSubset } from "./stratified-subset";
import { subsetDataset } from "./subset-dataset";

/** A tiny in-memory dataset: item i is a 2×3 grayscale image of value 10·i + pixel, label i % 3. */
function tinyDataset(size: number): ClassificationDataset {
  return {
    task: "classification",
    name: "tiny",
    split: "train",
    size,
    imageShape: [2, 3, 1],
    classes: ["a", "b", "c"],
    get: (i) => ({ image: Uint8Array.from({ length: 6 }, (_, p) => 10 * i + p), label: i % 3 }),
    label: (i) => i % 3,
  };
}

describe("shuffling", () => {
  it("is a seeded permutation", () => {
    const a = shuffledIndices(1000, 42);
    expect(Array.from(a).sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(shuffledIndices(1000, 42)).toEqual(a);
    expect(shuffledIndices(1000, 43)).not.toEqual(a);
    expect(Array.from(a.subarray(0, 10))).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

describe("stratifiedSubset", () => {
  const cifarLike = Int32Array.from({ length: 50_000 }, (_, i) => (i * 37) % 100);

  it("fraction 0.01 of 100 × 500 is exactly 5 per class, identical for every caller with the same seed", () => {
    const a = stratifiedSubset(cifarLike, { fraction: 0.01, seed: 3 });
    const b = stratifiedSubset(Int32Array.from(cifarLike), { fraction: 0.01, seed: 3 });
    expect(a).toHaveLength(500);
    expect(a).toEqual(b);
    const perClass = new Array<number>(100).fill(0);
    for (const i of a) perClass[cifarLike[i]!]! += 1;
    expect(perClass).toEqual(new Array<number>(100).fill(5));
    expect(a).toEqual([...a].sort((x, y) => x - y));
    expect(new Set(a).size).toBe(500);
    const c = stratifiedSubset(cifarLike, { fraction: 0.01, seed: 4 });
    expect(c).not.toEqual(a);
  });

  it("uses largest remainders so the total is round(fraction × n) for unequal classes", () => {
    // Class sizes 7, 13, 30, 50 → 10 %: exact 0.7, 1.3, 3, 5 → floors 0, 1, 3, 5 (9), +1 to class 0 (0.7).
    const labels = [
      ...new Array(7).fill(0),
      ...new Array(13).fill(1),
      ...new Array(30).fill(2),
      ...new Array(50).fill(3),
    ];
    const chosen = stratifiedSubset(labels, { fraction: 0.1, seed: 0 });
    expect(chosen).toHaveLength(10);
    const counts = [0, 0, 0, 0];
    for (const i of chosen) counts[labels[i]!]! += 1;
    expect(counts).toEqual([1, 1, 3, 5]);
    expect(stratifiedSubset(labels, { perClass: 8, seed: 0 })).toHaveLength(7 + 8 + 8 + 8);
    expect(stratifiedSubset(labels, { fraction: 0.01, minPerClass: 1 })).toHaveLength(4);
    expect(stratifiedSubset([-1, 0, 0, -1], { fraction: 1 })).toEqual([1, 2]);
  });

  it("works on a dataset without decoding images and rejects bad options", () => {
    const target = openSyntheticDataset("synthetic-target");
    const subset = stratifiedSubset(target, { fraction: 0.01, seed: 0 });
    expect(subset).toHaveLength(100);
    const view = subsetDataset(target, subset);
    expect(view.size).toBe(100);
    expect(view.label(5)).toBe(target.label(subset[5]!));
    expect(view.get(5)).toEqual(target.get(subset[5]!));
    expect(() => stratifiedSubset(target, { fraction: 0 })).toThrowError(/fraction must be in/);
    expect(() => stratifiedSubset(target, {})).toThrowError(/exactly one of/);
    expect(() => subsetDataset(target, [10_000])).toThrowError(/out of range/);
  });
});

describe("image operations", () => {
  it("resizes bilinearly with half-pixel centres (PyTorch align_corners=False values)", () => {
    const up = resizeBilinear(Float32Array.from([0, 1, 2, 3]), [2, 2, 1], 4, 4);
    expect(Array.from(up)).toEqual([
      0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3,
    ]);
    const down = resizeBilinear(
      Uint8Array.from([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150]),
      [4, 4, 1],
      2,
      2,
    );
    expect(Array.from(down)).toEqual([25, 45, 105, 125]);
    const same = Uint8Array.from({ length: 27 }, (_, i) => i * 3);
    expect(Array.from(resizeBilinear(same, [3, 3, 3], 3, 3))).toEqual(Array.from(same));
  });

  it("crops with zero padding and flips", () => {
    const image = Float32Array.from([1, 2, 3, 4, 5, 6]); // 2 × 3
    expect(Array.from(cropAndFlip(image, [2, 3, 1], { top: 0, left: 0, padding: 1, flip: false }))).toEqual([
      0, 0, 0, 0, 1, 2,
    ]);
    expect(Array.from(cropAndFlip(image, [2, 3, 1], { top: 2, left: 1, padding: 1, flip: false }))).toEqual([
      4, 5, 6, 0, 0, 0,
    ]);
    expect(Array.from(cropAndFlip(image, [2, 3, 1], { top: 1, left: 1, padding: 1, flip: true }))).toEqual([
      3, 2, 1, 6, 5, 4,
    ]);
  });

  it("normalises as (x / 255 - mean) / std", () => {
    const values = normalizeInPlace(Float32Array.from([255, 0, 127.5]), 3, NORMALIZATIONS.imagenet);
    expect(values[0]).toBeCloseTo((1 - 0.485) / 0.229, 5);
    expect(values[1]).toBeCloseTo(-0.456 / 0.224, 5);
    expect(values[2]).toBeCloseTo((0.5 - 0.406) / 0.225, 5);
    expect(() => normalizeInPlace(new Float32Array(3), 3, { mean: [0, 0], std: [1] })).toThrowError(
      /1 or 3 entries/,
    );
  });
});

describe("batching", () => {
  it("collates NHWC float batches with labels, channel expansion, resize and normalisation", () => {
    const data = tinyDataset(10);
    const batch = loadBatch(data, [4, 7], { batchSize: 2, channels: 3, normalize: "vit", size: [4, 6] });
    expect(batch.shape).toEqual([2, 4, 6, 3]);
    expect(Array.from(batch.labels)).toEqual([1, 1]);
    expect(Array.from(batch.indices)).toEqual([4, 7]);
    // Pixel (0,0) of item 4 is 40 → (40/255 - 0.5) / 0.5 in every channel.
    expect(batch.images[0]).toBeCloseTo((40 / 255 - 0.5) / 0.5, 5);
    expect(batch.images[1]).toBe(batch.images[0]);
    // Same as resizing the [0, 255] image first and normalising afterwards.
    const reference = normalizeInPlace(
      resizeBilinear(
        Uint8Array.from(Array.from(data.get(7).image).flatMap((v) => [v, v, v])),
        [2, 3, 3],
        4,
        6,
      ),
      3,
      NORMALIZATIONS.vit,
    );
    const second = batch.images.subarray(4 * 6 * 3);
    reference.forEach((value, i) => {
      expect(second[i]).toBeCloseTo(value, 5);
    });
    const plain = loadBatch(data, [2], { batchSize: 1 });
    expect(Array.from(plain.images).map((v) => Math.round(v * 255))).toEqual([20, 21, 22, 23, 24, 25]);
  });

  it("iterates an epoch: every item once, same batches for any prefetch, new order per epoch", async () => {
    const data = openSyntheticDataset("synthetic-source", { trainSize: 70 });
    const collect = async (prefetch: number, epoch: number) => {
      const out = [];
      for await (const batch of iterateBatches(data, {
        batchSize: 16,
        shuffle: true,
        seed: 5,
        epoch,
        prefetch,
        augment: { padding: 4, flip: true },
      })) {
        out.push(batch);
      }
      return out;
    };
    const a = await collect(0, 0);
    const b = await collect(3, 0);
    expect(a.map((batch) => batch.shape[0])).toEqual([16, 16, 16, 16, 6]);
    const seen = a.flatMap((batch) => Array.from(batch.indices)).sort((x, y) => x - y);
    expect(seen).toEqual(Array.from({ length: 70 }, (_, i) => i));
    expect(b.map((batch) => Array.from(batch.indices))).toEqual(a.map((batch) => Array.from(batch.indices)));
    expect(b[2]!.images).toEqual(a[2]!.images);
    expect(Array.from(a[0]!.labels)).toEqual(Array.from(a[0]!.indices).map((i) => i % 50));
    const c = await collect(2, 1);
    expect(c.map((batch) => Array.from(batch.indices))).not.toEqual(
      a.map((batch) => Array.from(batch.indices)),
    );
    // The augmentation changed the pixels compared with the plain decode.
    const plain = loadBatch(data, a[0]!.indices, { batchSize: 16 });
    expect(plain.images).not.toEqual(a[0]!.images);
    expect(batchCount(70, { batchSize: 16, dropLast: true })).toBe(4);
    expect(epochOrder(data, { indices: [3, 1] })).toEqual(Int32Array.from([3, 1]));
  });

  it("batches depth with a mask and the same flip for image and depth", () => {
    const depth = openSyntheticDepthDataset({ trainSize: 4, height: 12, width: 16 });
    const plain = loadBatch(depth, [0, 1], { batchSize: 2, depthRange: [0, 6] });
    expect(plain.shape).toEqual([2, 12, 16, 3]);
    expect(plain.depths).toHaveLength(2 * 12 * 16);
    const sample = depth.get(0).depth;
    for (let p = 0; p < 12 * 16; p++) {
      expect(plain.mask[p]).toBe(sample[p]! <= 6 ? 1 : 0);
      expect(plain.depths[p]).toBe(sample[p]! <= 6 ? sample[p] : 0);
    }
    // Mirror of the plain batch, pixel by pixel.
    const mirroredDepth = new Float32Array(12 * 16);
    const mirroredImage = new Float32Array(12 * 16 * 3);
    for (let y = 0; y < 12; y++) {
      for (let x = 0; x < 16; x++) {
        mirroredDepth[y * 16 + x] = plain.depths[y * 16 + 15 - x]!;
        for (let c = 0; c < 3; c++)
          mirroredImage[(y * 16 + x) * 3 + c] = plain.images[(y * 16 + 15 - x) * 3 + c]!;
      }
    }
    let flips = 0;
    for (let seed = 0; seed < 20; seed++) {
      const result = loadBatch(depth, [0], {
        batchSize: 1,
        seed,
        depthRange: [0, 6],
        augment: { flip: true },
      });
      const isFlipped = result.images.some((v, i) => v !== plain.images[i]);
      if (!isFlipped) continue;
      flips++;
      expect(result.depths).toEqual(mirroredDepth);
      expect(result.images).toEqual(mirroredImage);
    }
    expect(flips).toBeGreaterThan(3);
    expect(flips).toBeLessThan(17);
  });
});
