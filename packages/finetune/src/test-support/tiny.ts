import {
  type ClassificationDataset,
  type DepthDataset,
  openSyntheticDataset,
  openSyntheticDepthDataset,
  openSyntheticSegmentationDataset,
  type SegmentationDataset,
} from "@kora/datasets";
import { createViT, type ViT, type ViTConfigInput } from "@kora/vit";

/** A 2-block 16×16 ViT: small enough for many tests on two shared cores. */
export const TINY_VIT: ViTConfigInput = {
  imageSize: 16,
  patchSize: 4,
  channels: 3,
  dim: 24,
  depth: 2,
  heads: 2,
  mlpDim: 48,
  numClasses: 0,
};

/** A headless tiny ViT from `seed`. */
export function tinyViT(seed = 1): ViT {
  return createViT(TINY_VIT, { seed });
}

/** A small synthetic classification split (10 classes). */
export function tinyClassification(size = 24, split: "train" | "test" = "train"): ClassificationDataset {
  return openSyntheticDataset("synthetic-source", { split, imageSize: 16, trainSize: size, testSize: size });
}

/** A small synthetic depth split (16×16 scenes, depths 0.5–10 m). */
export function tinyDepth(size = 12, split: "train" | "test" = "train"): DepthDataset {
  return openSyntheticDepthDataset({ split, height: 16, width: 16, trainSize: size, testSize: size });
}

/** A small synthetic segmentation split (16×16 shapes, background + 10 shape classes). */
export function tinySegmentation(size = 12, split: "train" | "test" = "train"): SegmentationDataset {
  return openSyntheticSegmentationDataset({ split, imageSize: 16, trainSize: size, testSize: size });
}
