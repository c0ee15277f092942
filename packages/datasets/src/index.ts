/**
 * `@kora/datasets`: synthetic suites, batching, subsets and image operations. This entry imports nothing from Node
 * and runs in browsers and workers; the file readers and the dataset registry are in `@kora/datasets/node`.
 * @packageDocumentation
 */
export type { DatasetErrorCode } from "./errors";
export { DATASET_ERROR_CODES } from "./errors";
export type { IdxArray, IdxDataType } from "./idx/parse-idx";
export { parseIdx } from "./idx/parse-idx";
export type { DatasetLimits } from "./limits";
export { DEFAULT_DATASET_LIMITS, resolveDatasetLimits } from "./limits";
export type {
  AugmentOptions,
  BatchOptions,
  DepthBatch,
  ImageBatch,
  SegmentationBatch,
} from "./pipeline/batches";
export { batchCount, epochOrder, iterateBatches, loadBatch } from "./pipeline/batches";
export { classSubsetDataset } from "./pipeline/class-subset";
export type { CropWindow, Normalization, PixelArray } from "./pipeline/image-ops";
export {
  cropAndFlip,
  NORMALIZATIONS,
  normalizeInPlace,
  resizeBilinear,
  resizeNearest,
} from "./pipeline/image-ops";
export type { ImageShift, ImageShiftKind } from "./pipeline/image-shift";
export { IMAGE_SHIFT_KINDS, shiftedDataset } from "./pipeline/image-shift";
export { shuffledIndices, shuffleInPlace } from "./pipeline/shuffle";
export type { StratifiedSubsetOptions } from "./pipeline/stratified-subset";
export { stratifiedSubset } from "./pipeline/stratified-subset";
export { subsetDataset } from "./pipeline/subset-dataset";
export type { Random } from "./random/rng";
export { createRandom } from "./random/rng";
export type {
  DepthScene,
  SceneBox,
  ScenePlane,
  SceneSphere,
  SyntheticDepthOptions,
} from "./synthetic/depth-scene";
export {
  openSyntheticDepthDataset,
  renderDepthScene,
  SYNTHETIC_DEPTH_RANGE,
  sampleDepthScene,
} from "./synthetic/depth-scene";
export type { DomainStyle, SyntheticDomain } from "./synthetic/domains";
export { SYNTHETIC_DOMAINS } from "./synthetic/domains";
export type { SyntheticImageRequest } from "./synthetic/render";
export { renderSyntheticImage } from "./synthetic/render";
export type { SyntheticSegmentationOptions } from "./synthetic/segmentation-dataset";
export {
  openSyntheticSegmentationDataset,
  SYNTHETIC_SEGMENTATION_CLASSES,
} from "./synthetic/segmentation-dataset";
export type { SyntheticShape, SyntheticTexture } from "./synthetic/shapes";
export { SYNTHETIC_SHAPES, SYNTHETIC_TEXTURES } from "./synthetic/shapes";
export type {
  SyntheticDatasetOptions,
  SyntheticSuiteInfo,
  SyntheticSuiteName,
} from "./synthetic/synthetic-dataset";
export { openSyntheticDataset, SYNTHETIC_SUITES, syntheticClassName } from "./synthetic/synthetic-dataset";
export type {
  ClassificationDataset,
  Dataset,
  DatasetBase,
  DepthDataset,
  DepthSample,
  ImageShape,
  LabeledImage,
  SegmentationDataset,
  SegmentationSample,
  Split,
} from "./types";
