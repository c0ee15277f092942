import { hashSeed } from "@kora/spec";
import { checkIndex, datasetError } from "../errors";
import { createRandom } from "../random/rng";
import type { ClassificationDataset } from "../types";

/**
 * A deterministic change of image domain, applied per item:
 * - `"invert"`: every pixel `v → 255 − v` (a linear model on pixels is indifferent to it; a network trained on the
 *   original polarity is not).
 * - `"rotate90"`: a quarter turn clockwise (square images only).
 * - `"clutter"`: oriented stripes behind the object: each pixel becomes `max(v, s)` where `s` is a sinusoidal
 *   grating of seeded orientation, period and phase per item, scaled to `strength · 255`.
 * - `"translate"`: the image moved by a seeded offset of up to `round(strength · side / 4)` pixels in each
 *   direction per item, the uncovered border filled with 0 (a linear model on pixels depends on where things are).
 */
export type ImageShiftKind = "invert" | "rotate90" | "clutter" | "translate";

/** The shift kinds {@link shiftedDataset} accepts. */
export const IMAGE_SHIFT_KINDS: readonly ImageShiftKind[] = ["invert", "rotate90", "clutter", "translate"];

/** A domain shift: its kinds, applied in order, and the seed of the per-item randomness (`clutter`). */
export interface ImageShift {
  kinds: readonly ImageShiftKind[];
  /** Seed of the per-item stripes. Default 0. */
  seed?: number;
  /** Peak stripe intensity of `clutter` (fraction of 255), or the reach of `translate`; in (0, 1]. Default 0.6. */
  strength?: number;
}

function applyShift(
  image: Uint8Array,
  shape: readonly [number, number, number],
  kind: ImageShiftKind,
  item: number,
  shift: ImageShift,
): Uint8Array {
  const [h, w, c] = shape;
  const out = new Uint8Array(image.length);
  switch (kind) {
    case "invert":
      for (let i = 0; i < image.length; i++) out[i] = 255 - (image[i] as number);
      return out;
    case "rotate90":
      // Clockwise: output (y, x) takes input (h − 1 − x, y).
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          for (let k = 0; k < c; k++)
            out[(y * w + x) * c + k] = image[((h - 1 - x) * w + y) * c + k] as number;
        }
      }
      return out;
    case "translate": {
      const random = createRandom(hashSeed(shift.seed ?? 0, "translate", item));
      const reach = Math.round(((shift.strength ?? 0.6) * Math.min(h, w)) / 4);
      const dy = Math.floor(random.next() * (2 * reach + 1)) - reach;
      const dx = Math.floor(random.next() * (2 * reach + 1)) - reach;
      for (let y = 0; y < h; y++) {
        const sy = y - dy;
        if (sy < 0 || sy >= h) continue;
        for (let x = 0; x < w; x++) {
          const sx = x - dx;
          if (sx < 0 || sx >= w) continue;
          for (let k = 0; k < c; k++) out[(y * w + x) * c + k] = image[(sy * w + sx) * c + k] as number;
        }
      }
      return out;
    }
    case "clutter": {
      const random = createRandom(hashSeed(shift.seed ?? 0, "clutter", item));
      const angle = random.next() * Math.PI;
      const period = 3 + random.next() * 5;
      const phase = random.next() * 2 * Math.PI;
      const peak = 255 * (shift.strength ?? 0.6);
      const fx = (Math.cos(angle) * 2 * Math.PI) / period;
      const fy = (Math.sin(angle) * 2 * Math.PI) / period;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const s = Math.round(peak * 0.5 * (1 + Math.sin(fx * x + fy * y + phase)));
          for (let k = 0; k < c; k++) {
            const i = (y * w + x) * c + k;
            out[i] = Math.max(image[i] as number, s);
          }
        }
      }
      return out;
    }
  }
}

/**
 * A view of a classification dataset whose images pass through a fixed domain shift (see {@link ImageShiftKind}):
 * item `i` is the same item with the same label, its image changed deterministically (the same for every caller
 * and every epoch). With {@link classSubsetDataset} it builds a source and a target task that share a domain the
 * pretrained backbone never saw.
 *
 * @throws KoraError `INVALID_ARGUMENT` for an unknown kind, a bad strength, or `rotate90` on a non-square dataset.
 */
export function shiftedDataset(dataset: ClassificationDataset, shift: ImageShift): ClassificationDataset {
  for (const kind of shift.kinds) {
    if (!IMAGE_SHIFT_KINDS.includes(kind)) {
      throw datasetError(
        "INVALID_ARGUMENT",
        `shiftedDataset: unknown shift "${String(kind)}"; known: ${IMAGE_SHIFT_KINDS.join(", ")}`,
        "kinds",
      );
    }
    if (kind === "rotate90" && dataset.imageShape[0] !== dataset.imageShape[1]) {
      throw datasetError(
        "INVALID_ARGUMENT",
        `shiftedDataset: rotate90 needs square images, ${dataset.name} has ${dataset.imageShape.join("×")}`,
        "kinds",
      );
    }
  }
  const strength = shift.strength ?? 0.6;
  if (!(strength > 0 && strength <= 1)) {
    throw datasetError(
      "INVALID_ARGUMENT",
      `shiftedDataset: strength must be in (0, 1], got ${strength}`,
      "strength",
    );
  }
  const shape = dataset.imageShape as readonly [number, number, number];
  return {
    ...dataset,
    name: `${dataset.name}+${shift.kinds.join("+")}`,
    get(i: number) {
      checkIndex(i, dataset.size, dataset.name);
      const item = dataset.get(i);
      let image = item.image;
      for (const kind of shift.kinds) image = applyShift(image, shape, kind, i, shift);
      return { image, label: item.label };
    },
    label: (i: number) => dataset.label(i),
  };
}
