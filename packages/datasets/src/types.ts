/** Which part of a dataset to open. `"val"` exists for Tiny-ImageNet only; `"all"` concatenates every split. */
export type Split = "train" | "test" | "val" | "all";

/** Shape of one image: `[height, width, channels]`, pixels row-major, channels interleaved (HWC). */
export type ImageShape = readonly [height: number, width: number, channels: number];

/** One labelled image as returned by {@link ClassificationDataset.get}. */
export interface LabeledImage {
  /** Pixels, `height × width × channels` bytes, row-major, channels interleaved (RGB for colour datasets). */
  image: Uint8Array;
  /** Class index into {@link ClassificationDataset.classes}; `-1` for unlabelled items (Tiny-ImageNet test). */
  label: number;
}

/** One RGB image with its per-pixel depth, as returned by {@link DepthDataset.get}. */
export interface DepthSample {
  /** RGB pixels, `height × width × 3` bytes, row-major. */
  image: Uint8Array;
  /** Depth in metres, `height × width`, row-major; `0` (or a non-finite value) marks a pixel without depth. */
  depth: Float32Array;
}

/** One image with its per-pixel class map, as returned by {@link SegmentationDataset.get}. */
export interface SegmentationSample {
  /** RGB pixels, `height × width × 3` bytes, row-major. */
  image: Uint8Array;
  /** Class id of every pixel, `height × width`, row-major, into {@link SegmentationDataset.classes}. */
  mask: Uint8Array;
}

/** Properties every dataset has. */
export interface DatasetBase {
  /** Registry name, e.g. `"cifar100"`. */
  readonly name: string;
  /** The split this object reads. */
  readonly split: Split;
  /** Number of items. */
  readonly size: number;
  /** Shape of every image this dataset returns. */
  readonly imageShape: ImageShape;
}

/** A random-access image classification dataset. */
export interface ClassificationDataset extends DatasetBase {
  /** Discriminant. */
  readonly task: "classification";
  /** Class names in label order (`classes[label]`). */
  readonly classes: readonly string[];
  /** Decodes item `index` (`0 ≤ index < size`). */
  get(index: number): LabeledImage;
  /** The label of item `index` without decoding its image (used by stratified subsets). */
  label(index: number): number;
}

/** A random-access RGB + depth dataset. */
export interface DepthDataset extends DatasetBase {
  /** Discriminant. */
  readonly task: "depth";
  /** Shape of every depth map: `[height, width]`. */
  readonly depthShape: readonly [height: number, width: number];
  /** Decodes item `index` (`0 ≤ index < size`). */
  get(index: number): DepthSample;
}

/** A random-access semantic segmentation dataset: images with a class id per pixel. */
export interface SegmentationDataset extends DatasetBase {
  /** Discriminant. */
  readonly task: "segmentation";
  /** Class names in id order (`classes[id]`); id 0 is the background where there is one. */
  readonly classes: readonly string[];
  /** Shape of every class map: `[height, width]`. */
  readonly maskShape: readonly [height: number, width: number];
  /** Decodes item `index` (`0 ≤ index < size`). */
  get(index: number): SegmentationSample;
}

/** Any dataset this package returns. */
export type Dataset = ClassificationDataset | DepthDataset | SegmentationDataset;
