import { KoraError } from "@kora/spec";
import { describe, expect, it } from "vitest";
import { openSyntheticDataset } from "../synthetic/synthetic-dataset";
import type { ClassificationDataset } from "../types";
import { classSubsetDataset } from "./class-subset";
import { shiftedDataset } from "./image-shift";

/** A 3×3 single-channel dataset with known pixels: item i has pixels i, i+1, …, i+8 and label i % 4. */
function tiny(size = 8): ClassificationDataset {
  return {
    name: "tiny",
    split: "train",
    task: "classification",
    size,
    imageShape: [3, 3, 1],
    classes: ["a", "b", "c", "d"],
    get: (i) => ({ image: Uint8Array.from({ length: 9 }, (_, k) => i + k), label: i % 4 }),
    label: (i) => i % 4,
  };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return KoraError.isInstance(error) ? error.code : `not a KoraError: ${String(error)}`;
  }
  return undefined;
}

describe("classSubsetDataset", () => {
  it("keeps the items of the classes given, relabelled in the order given, names kept", () => {
    const view = classSubsetDataset(tiny(), [3, 1]);
    expect(view.size).toBe(4);
    expect(view.classes).toEqual(["d", "b"]);
    // Items 1, 3, 5, 7 of the base (labels 1, 3, 1, 3) → labels 1, 0, 1, 0.
    expect(Array.from({ length: 4 }, (_, i) => view.label(i))).toEqual([1, 0, 1, 0]);
    expect(view.get(1)).toEqual({ image: tiny().get(3).image, label: 0 });
  });

  it("two disjoint class lists split a synthetic suite with no item in common", () => {
    const base = openSyntheticDataset("synthetic-source", { trainSize: 200 });
    const a = classSubsetDataset(base, [0, 1, 2]);
    const b = classSubsetDataset(base, [3, 4, 5]);
    const count = (c: number) =>
      Array.from({ length: base.size }, (_, i) => base.label(i)).filter((l) => l === c).length;
    expect(a.size).toBe(count(0) + count(1) + count(2));
    expect(b.size).toBe(count(3) + count(4) + count(5));
    for (let i = 0; i < a.size; i++) expect(a.label(i)).toBeLessThan(3);
  });

  it("rejects an empty, repeated or unknown class, and an index outside the view", () => {
    expect(codeOf(() => classSubsetDataset(tiny(), []))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => classSubsetDataset(tiny(), [1, 1]))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => classSubsetDataset(tiny(), [4]))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => classSubsetDataset(tiny(), [0.5]))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => classSubsetDataset(tiny(), [0]).get(2))).toBe("INVALID_ARGUMENT");
  });
});

describe("shiftedDataset", () => {
  it("invert maps v to 255 − v and keeps the label", () => {
    const item = shiftedDataset(tiny(), { kinds: ["invert"] }).get(2);
    expect(Array.from(item.image)).toEqual([253, 252, 251, 250, 249, 248, 247, 246, 245]);
    expect(item.label).toBe(2);
  });

  it("rotate90 turns clockwise; four turns are the identity", () => {
    const once = shiftedDataset(tiny(), { kinds: ["rotate90"] }).get(0).image;
    // [[0,1,2],[3,4,5],[6,7,8]] clockwise → [[6,3,0],[7,4,1],[8,5,2]].
    expect(Array.from(once)).toEqual([6, 3, 0, 7, 4, 1, 8, 5, 2]);
    const four = shiftedDataset(tiny(), { kinds: ["rotate90", "rotate90", "rotate90", "rotate90"] });
    expect(four.get(5).image).toEqual(tiny().get(5).image);
  });

  it("clutter only raises pixels, is the same on every read, and differs between items and seeds", () => {
    const base = openSyntheticDataset("synthetic-source", { trainSize: 20 });
    const view = shiftedDataset(base, { kinds: ["clutter"], seed: 1 });
    const original = base.get(3).image;
    const shifted = view.get(3).image;
    expect(view.get(3).image).toEqual(shifted);
    let raised = 0;
    for (let i = 0; i < original.length; i++) {
      expect(shifted[i]).toBeGreaterThanOrEqual(original[i] as number);
      if ((shifted[i] as number) > (original[i] as number)) raised++;
    }
    expect(raised).toBeGreaterThan(original.length / 10);
    expect(shiftedDataset(base, { kinds: ["clutter"], seed: 2 }).get(3).image).not.toEqual(shifted);
    // The stripes peak at strength·255.
    const black = shiftedDataset(
      { ...tiny(), get: () => ({ image: new Uint8Array(9), label: 0 }) },
      { kinds: ["clutter"], strength: 0.5 },
    );
    for (let i = 0; i < 8; i++) expect(Math.max(...black.get(i).image)).toBeLessThanOrEqual(128);
  });

  it("translate moves the image by a seeded offset within its reach and fills the border with 0", () => {
    const base = tiny();
    const view = shiftedDataset(base, { kinds: ["translate"], strength: 1, seed: 4 });
    // Reach round(1 · 3 / 4) = 1 pixel: every output pixel is 0 or the input pixel one step away at most.
    let moved = 0;
    for (let i = 0; i < base.size; i++) {
      const input = base.get(i).image;
      const output = view.get(i).image;
      if (!output.every((v, k) => v === input[k])) moved++;
      for (let y = 0; y < 3; y++) {
        for (let x = 0; x < 3; x++) {
          const v = output[y * 3 + x] as number;
          if (v === 0) continue;
          const source = v - i; // pixel value i + (sy·3 + sx)
          const sy = Math.floor(source / 3);
          const sx = source % 3;
          expect(Math.abs(sy - y)).toBeLessThanOrEqual(1);
          expect(Math.abs(sx - x)).toBeLessThanOrEqual(1);
        }
      }
    }
    expect(moved).toBeGreaterThan(0);
  });

  it("rejects an unknown kind, a bad strength and rotate90 on non-square images", () => {
    expect(codeOf(() => shiftedDataset(tiny(), { kinds: ["blur" as never] }))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => shiftedDataset(tiny(), { kinds: ["clutter"], strength: 0 }))).toBe(
      "INVALID_ARGUMENT",
    );
    expect(codeOf(() => shiftedDataset(tiny(), { kinds: ["clutter"], strength: 1.5 }))).toBe(
      "INVALID_ARGUMENT",
    );
    const wide = { ...tiny(), imageShape: [3, 4, 1] as const };
    expect(codeOf(() => shiftedDataset(wide, { kinds: ["rotate90"] }))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => shiftedDataset(tiny(), { kinds: ["invert"] }).get(99))).toBe("INVALID_ARGUMENT");
  });
});
