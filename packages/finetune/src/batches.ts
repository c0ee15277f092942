import {
  type BatchOptions,
  type Dataset,
  type DepthBatch,
  type ImageBatch,
  iterateBatches,
  type SegmentationBatch,
} from "@kora/datasets";
import type { ViTConfig } from "@kora/vit";
import * as tf from "@tensorflow/tfjs";
import { finetuneError } from "./errors";

/** A classification batch as tensors: NHWC images (the ViT's input layout) and integer labels. */
export interface ClassificationTensorBatch {
  kind: "classification";
  /** `[B, H, W, C]`, resized and normalised for the model. */
  images: tf.Tensor4D;
  /** `[B]` int32. */
  labels: tf.Tensor1D;
  /** Dataset indices of the items, in batch order. */
  indices: Int32Array;
}

/** A depth batch as tensors: images, depth in metres `[B, H, W, 1]` (0 where unknown) and the validity mask. */
export interface DepthTensorBatch {
  kind: "depth";
  images: tf.Tensor4D;
  depths: tf.Tensor4D;
  /** 1 where the depth is valid, else 0; same shape as `depths`. */
  mask: tf.Tensor4D;
  /** The depths on the CPU (`[B·H·W]`), for metrics without a download. */
  depthValues: Float32Array;
  indices: Int32Array;
}

/** A segmentation batch as tensors: images and the class id of every pixel. */
export interface SegmentationTensorBatch {
  kind: "segmentation";
  images: tf.Tensor4D;
  /** `[B, H, W]` int32 class ids at the model's resolution (nearest-neighbour resized). */
  labels: tf.Tensor3D;
  /** The same class ids on the CPU (`[B·H·W]`), for metrics without a download. */
  labelValues: Int32Array;
  indices: Int32Array;
}

/** A batch as tensors; every consumer switches on `kind`. */
export type TensorBatch = ClassificationTensorBatch | DepthTensorBatch | SegmentationTensorBatch;

/** What {@link tensorBatches} and {@link epochData} need besides the dataset. */
export interface TensorBatchOptions {
  /** Items per batch. */
  batchSize: number;
  /** Use these dataset indices only (a fixed subset), in this order before shuffling. Default: every item. */
  indices?: ArrayLike<number> | undefined;
  /**
   * Labels that replace the dataset's, one per entry of `indices` (or per dataset item without `indices`): a
   * label-shuffling control, or coarser pretraining labels.
   */
  labels?: Int32Array | undefined;
  /** Depth batches: valid depth range `[min, max]` metres (see the depth task). */
  depthRange?: readonly [number, number] | undefined;
  /** Drop a last batch smaller than `batchSize`. Default false. */
  dropLast?: boolean | undefined;
}

/** `@kora/datasets` batch options that turn dataset images into what the ViT expects: its size, channels, mean/std. */
export function batchOptionsFor(config: ViTConfig, options: TensorBatchOptions): BatchOptions {
  return {
    batchSize: options.batchSize,
    size: [config.imageSize, config.imageSize],
    channels: config.channels as 1 | 3,
    normalize: { mean: config.imageMean, std: config.imageStd },
    ...(options.indices === undefined ? {} : { indices: options.indices }),
    ...(options.depthRange === undefined ? {} : { depthRange: options.depthRange }),
    ...(options.dropLast === undefined ? {} : { dropLast: options.dropLast }),
  };
}

/** A lookup from dataset index to the replacement label of {@link TensorBatchOptions.labels}. */
function labelOverride(dataset: Dataset, options: TensorBatchOptions): ((index: number) => number) | null {
  const { labels } = options;
  if (labels === undefined) return null;
  if (dataset.task !== "classification") {
    throw finetuneError("INVALID_ARGUMENT", `labels: ${dataset.name} is a ${dataset.task} dataset`, "labels");
  }
  const indices = options.indices;
  const expected = indices?.length ?? dataset.size;
  if (labels.length !== expected) {
    throw finetuneError(
      "INVALID_ARGUMENT",
      `labels: ${labels.length} labels for ${expected} items; give one per entry of indices`,
      "labels",
    );
  }
  if (indices === undefined) return (index) => labels[index]!;
  const byIndex = new Map<number, number>();
  for (let i = 0; i < indices.length; i++) byIndex.set(indices[i]!, labels[i]!);
  return (index) => byIndex.get(index)!;
}

/** Converts a `@kora/datasets` batch to tensors (the caller, or `train`, disposes them). */
export function toTensorBatch(
  batch: ImageBatch | DepthBatch | SegmentationBatch,
  relabel: ((index: number) => number) | null = null,
): TensorBatch {
  const images = tf.tensor4d(batch.images, batch.shape);
  if ("labels" in batch) {
    const labels = relabel === null ? batch.labels : Int32Array.from(batch.indices, relabel);
    return { kind: "classification", images, labels: tf.tensor1d(labels, "int32"), indices: batch.indices };
  }
  const [n, h, w] = batch.shape;
  if ("masks" in batch) {
    return {
      kind: "segmentation",
      images,
      labels: tf.tensor3d(batch.masks, [n, h, w], "int32"),
      labelValues: batch.masks,
      indices: batch.indices,
    };
  }
  return {
    kind: "depth",
    images,
    depths: tf.tensor4d(batch.depths, [n, h, w, 1]),
    mask: tf.tensor4d(Float32Array.from(batch.mask), [n, h, w, 1]),
    depthValues: batch.depths,
    indices: batch.indices,
  };
}

/** Where in the epoch sequence a pass is: its seed and epoch (from `train`'s epoch context). */
export interface EpochPosition {
  seed: number;
  epoch: number;
}

/**
 * One pass over `dataset` as tensor batches in the model's input layout. Without `position` the order is
 * `indices` (or the dataset's); with it, `@kora/datasets`' seeded shuffle of `(seed, epoch)` — the same order for
 * the same seed and epoch wherever it runs, every item exactly once per epoch.
 */
export async function* tensorBatches(
  dataset: Dataset,
  config: ViTConfig,
  options: TensorBatchOptions,
  position?: EpochPosition,
): AsyncGenerator<TensorBatch> {
  const relabel = labelOverride(dataset, options);
  const batchOptions: BatchOptions = {
    ...batchOptionsFor(config, options),
    ...(position === undefined ? {} : { shuffle: true, seed: position.seed, epoch: position.epoch }),
  };
  for await (const batch of iterateBatches(dataset, batchOptions)) yield toTensorBatch(batch, relabel);
}

/**
 * Training data for `@kora/tfjs`'s `train`: each epoch a seeded shuffle of the items that depends on the
 * epoch's seed only, so an interrupted run resumes on the very same batches.
 */
export function epochData(
  dataset: Dataset,
  config: ViTConfig,
  options: TensorBatchOptions,
): (context: EpochPosition) => AsyncIterable<TensorBatch> {
  // Checked once up front, so a bad option fails before the first step rather than inside the training loop.
  labelOverride(dataset, options);
  return (context) => tensorBatches(dataset, config, options, { seed: context.seed, epoch: context.epoch });
}

/** The examples a pass covers: `indices`, or the whole dataset. */
export function exampleCount(dataset: Dataset, options: Pick<TensorBatchOptions, "indices">): number {
  return options.indices?.length ?? dataset.size;
}
