import { describe, expect, it } from "vitest";
import { loadBatch } from "../pipeline/batches";
import { openDataset } from "../registry/registry";
import type { DomainStyle } from "./domains";
import { SYNTHETIC_DOMAINS } from "./domains";
import { renderSyntheticImage } from "./render";
import { openSyntheticSegmentationDataset, SYNTHETIC_SEGMENTATION_CLASSES } from "./segmentation-dataset";

describe("synthetic-segmentation", () => {
  it("is deterministic by seed across two independent opens and differs across seeds", () => {
    const a = openSyntheticSegmentationDataset({ seed: 3 });
    const b = openSyntheticSegmentationDataset({ seed: 3 });
    const c = openSyntheticSegmentationDataset({ seed: 4 });
    for (const i of [0, 7, 1999]) {
      expect(a.get(i)).toEqual(b.get(i));
      expect(a.get(i).image).not.toEqual(c.get(i).image);
    }
    const late = a.get(1234);
    a.get(5);
    expect(b.get(1234)).toEqual(late);
  });

  it("labels background 0 and shape s as s + 1, every class in range, both parts non-empty", () => {
    const data = openSyntheticSegmentationDataset({ trainSize: 40, imageSize: 24 });
    expect(data.classes).toEqual(SYNTHETIC_SEGMENTATION_CLASSES);
    expect(data.classes).toHaveLength(11);
    expect(data.maskShape).toEqual([24, 24]);
    for (let i = 0; i < data.size; i++) {
      const { image, mask } = data.get(i);
      expect(image).toHaveLength(24 * 24 * 3);
      expect(mask).toHaveLength(24 * 24);
      const values = [...new Set(mask)].sort((x, y) => x - y);
      expect(values).toEqual([0, (i % 10) + 1]);
      const foreground = mask.reduce((n, v) => n + (v === 0 ? 0 : 1), 0) / mask.length;
      // The clean domain draws shapes of radius 0.6–0.82 of half the side: a sizeable part of the image.
      expect(foreground).toBeGreaterThan(0.1);
      expect(foreground).toBeLessThan(0.9);
    }
  });

  it("has a mask that is exactly what the renderer draws: one colour inside, another outside", () => {
    // A style with nothing but the shape: flat background, no noise, no blur, and a solid texture below.
    const plain: DomainStyle = {
      ...SYNTHETIC_DOMAINS.source,
      backgroundKinds: [1, 0, 0],
      noise: [0, 0],
      blur: 0,
    };
    // Shapes whose outline distance is close to exact (the crescent's horns anti-alias over several pixels).
    for (const shape of [0, 1, 2, 6]) {
      const size = 32;
      const mask = new Uint8Array(size * size);
      const request = { shape, texture: 0, style: plain, seed: 11 + shape, size };
      const image = renderSyntheticImage(request, undefined, mask);
      // Drawing the mask changes nothing in the image.
      expect(image).toEqual(renderSyntheticImage(request));
      const colours = { inside: new Set<string>(), outside: new Set<string>() };
      for (let y = 2; y < size - 2; y++) {
        for (let x = 2; x < size - 2; x++) {
          // Pixels whose 5 × 5 neighbourhood is all inside or all outside: no anti-aliased edge reaches them (some
          // shapes' distances are bounds rather than exact, so their fringe can be wider than one pixel).
          let sum = 0;
          for (let dy = -2; dy <= 2; dy++) {
            for (let dx = -2; dx <= 2; dx++) sum += mask[(y + dy) * size + x + dx]!;
          }
          if (sum !== 0 && sum !== 25) continue;
          const o = (y * size + x) * 3;
          const rgb = `${image[o]},${image[o + 1]},${image[o + 2]}`;
          (sum === 25 ? colours.inside : colours.outside).add(rgb);
        }
      }
      expect([shape, colours.inside.size, colours.outside.size]).toEqual([shape, 1, 1]);
      expect([...colours.inside][0]).not.toBe([...colours.outside][0]);
    }
  });

  it("opens through the registry with its splits and sizes", async () => {
    const train = await openDataset("synthetic-segmentation", { trainSize: 30, testSize: 10 });
    const test = await openDataset("synthetic-segmentation", { split: "test", trainSize: 30, testSize: 10 });
    const all = await openDataset("synthetic-segmentation", { split: "all", trainSize: 30, testSize: 10 });
    expect([train.task, train.size, test.size, all.size]).toEqual(["segmentation", 30, 10, 40]);
    expect(all.get(32)).toEqual(test.get(2));
    expect(all.get(3)).toEqual(train.get(3));
    expect(train.get(3).image).not.toEqual(test.get(3).image);
  });

  it("rejects bad options with INVALID_ARGUMENT naming the field", () => {
    expect(() => openSyntheticSegmentationDataset({ split: "val" })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT", path: "split" }),
    );
    expect(() => openSyntheticSegmentationDataset({ domain: "mars" as never })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT", path: "domain" }),
    );
    expect(() => openSyntheticSegmentationDataset({ imageSize: 4 })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
    expect(() =>
      renderSyntheticImage(
        { shape: 0, texture: 0, style: SYNTHETIC_DOMAINS.source, seed: 0, size: 8 },
        undefined,
        new Uint8Array(3),
      ),
    ).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT", path: "mask" }));
  });

  it("batches class maps with the images: nearest resize keeps ids, a flip mirrors image and mask together", () => {
    const data = openSyntheticSegmentationDataset({ trainSize: 8, imageSize: 32 });
    const plain = loadBatch(data, [0, 1, 2, 3], { batchSize: 4, size: [16, 16] });
    expect(plain.masks).toHaveLength(4 * 16 * 16);
    for (let k = 0; k < 4; k++) {
      const source = data.get(k).mask;
      for (let y = 0; y < 16; y++) {
        for (let x = 0; x < 16; x++) {
          // Half-pixel centres: output pixel (y, x) reads source pixel (2y + 1, 2x + 1) at scale 2.
          expect(plain.masks[k * 256 + y * 16 + x]).toBe(source[(2 * y + 1) * 32 + 2 * x + 1]);
        }
      }
    }
    const flipped = loadBatch(data, [0, 1, 2, 3, 4, 5, 6, 7], {
      batchSize: 8,
      augment: { flip: true },
      seed: 5,
    });
    const unflipped = loadBatch(data, [0, 1, 2, 3, 4, 5, 6, 7], { batchSize: 8 });
    let mirrored = 0;
    for (let k = 0; k < 8; k++) {
      const mask = flipped.masks.subarray(k * 1024, (k + 1) * 1024);
      const same = unflipped.masks.subarray(k * 1024, (k + 1) * 1024);
      const mirror = Int32Array.from(same, (_, p) => same[Math.floor(p / 32) * 32 + 31 - (p % 32)]!);
      const imageSame = flipped.images
        .subarray(k * 3072, (k + 1) * 3072)
        .every((v, i) => v === unflipped.images[k * 3072 + i]);
      expect(mask).toEqual(imageSame ? same : mirror);
      if (!imageSame) mirrored++;
    }
    expect(mirrored).toBeGreaterThan(0);
  });
});
