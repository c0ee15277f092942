import { hashSeed } from "@kora/spec";
import { checkIndex, checkInteger, datasetError } from "../errors";
import type { SegmentationDataset, SegmentationSample, Split } from "../types";
import { SYNTHETIC_DOMAINS, type SyntheticDomain } from "./domains";
import { renderSyntheticImage } from "./render";
import { SYNTHETIC_SHAPES, SYNTHETIC_TEXTURES } from "./shapes";

/**
 * Class names of `synthetic-segmentation`, in id order: `background` (0), then the ten shapes of
 * {@link SYNTHETIC_SHAPES} (shape `s` is class `s + 1`).
 */
export const SYNTHETIC_SEGMENTATION_CLASSES: readonly string[] = ["background", ...SYNTHETIC_SHAPES];

/** Options of {@link openSyntheticSegmentationDataset}. */
export interface SyntheticSegmentationOptions {
  /** `train`, `test` or `all` (train then test). Default `train`. */
  split?: Split;
  /** Suite seed; the same seed gives the same images and masks. Default 0. */
  seed?: number;
  /** Image side in pixels (square images). Default 32. */
  imageSize?: number;
  /** Rendering domain (see {@link SYNTHETIC_DOMAINS}). Default `"source"`: clean shapes on dark backgrounds. */
  domain?: SyntheticDomain;
  /** Training items. Default 2 000. */
  trainSize?: number;
  /** Test items. Default 400. */
  testSize?: number;
}

/**
 * Opens the synthetic segmentation suite `synthetic-segmentation`: images of the shape renderer (one textured
 * shape on a background, in the style of a domain) with the class of every pixel — 0 for the background, `s + 1`
 * inside shape `s` — taken from the renderer itself (the pixels whose centre lies inside the shape's outline), so
 * the mask is exact by construction. Item `i` shows shape `i mod 10` (balanced classes) with a texture and pose
 * drawn from a seed derived from `(seed, split, i)`; any item is produced in O(1), the same options always give
 * the same bytes. Runs anywhere (no node: imports).
 *
 * @throws KoraError `INVALID_ARGUMENT` for a bad split, domain, seed or size.
 */
export function openSyntheticSegmentationDataset(
  options: SyntheticSegmentationOptions = {},
): SegmentationDataset {
  const name = "synthetic-segmentation";
  const split = options.split ?? "train";
  if (split !== "train" && split !== "test" && split !== "all") {
    throw datasetError(
      "INVALID_ARGUMENT",
      `${name}: split must be "train", "test" or "all", got ${JSON.stringify(split)}`,
      "split",
    );
  }
  const seed = options.seed ?? 0;
  if (!Number.isFinite(seed))
    throw datasetError("INVALID_ARGUMENT", `${name}: seed must be a finite number`, "seed");
  const domain = options.domain ?? "source";
  const style = SYNTHETIC_DOMAINS[domain];
  if (style === undefined) {
    throw datasetError(
      "INVALID_ARGUMENT",
      `${name}: domain must be one of ${Object.keys(SYNTHETIC_DOMAINS).join(", ")}, got ${JSON.stringify(domain)}`,
      "domain",
    );
  }
  const imageSize = options.imageSize ?? 32;
  checkInteger(imageSize, "imageSize", 8, 1024);
  const trainSize = options.trainSize ?? 2_000;
  const testSize = options.testSize ?? 400;
  checkInteger(trainSize, "trainSize", 0);
  checkInteger(testSize, "testSize", 0);
  const size = split === "train" ? trainSize : split === "test" ? testSize : trainSize + testSize;
  const shapes = SYNTHETIC_SHAPES.length;
  return {
    task: "segmentation",
    name,
    split,
    size,
    imageShape: [imageSize, imageSize, 3],
    maskShape: [imageSize, imageSize],
    classes: SYNTHETIC_SEGMENTATION_CLASSES,
    get(index: number): SegmentationSample {
      checkIndex(index, size, name);
      const part = split === "test" || (split === "all" && index >= trainSize) ? "test" : "train";
      const local = part === "test" && split === "all" ? index - trainSize : index;
      const itemSeed = hashSeed(seed, name, part, local);
      const shape = local % shapes;
      // The texture is a nuisance here (the class is the shape): drawn from the item's seed, not from its index.
      const texture = (itemSeed >>> 8) % SYNTHETIC_TEXTURES.length;
      const mask = new Uint8Array(imageSize * imageSize);
      const image = renderSyntheticImage(
        { shape, texture, style, seed: itemSeed, size: imageSize },
        undefined,
        mask,
      );
      const label = shape + 1;
      for (let p = 0; p < mask.length; p++) if (mask[p] !== 0) mask[p] = label;
      return { image, mask };
    },
  };
}
