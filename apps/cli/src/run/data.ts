import {
  type BatchOptions,
  type Dataset,
  type DepthBatch,
  type ImageBatch,
  iterateBatches,
} from "@kora/datasets";
import { getDataset, listDatasets, openDataset } from "@kora/datasets/node";
import type { ViTConfig } from "@kora/vit";
import * as tf from "@tensorflow/tfjs";
import { UsageError } from "../support/errors";
import { didYouMean } from "../support/suggest";

/** A dataset split to open. */
export interface DatasetChoice {
  /** Registry name (`synthetic-source`, `cifar100`, …). */
  name: string;
  /** Folder of a dataset on disk (synthetic suites need none). */
  root?: string | undefined;
  /** Split (`train`, `test`, …). */
  split: string;
}

/**
 * Opens a registered dataset split. An unknown name or split is bad usage (exit 2, with a suggestion); a missing
 * copy on disk is the package's `DATASET_NOT_FOUND` (exit 1, says where to get it).
 */
export async function openDatasetSplit(choice: DatasetChoice, flag = "--dataset"): Promise<Dataset> {
  const names = listDatasets();
  if (!names.includes(choice.name)) {
    throw new UsageError(
      `${flag}: unknown dataset "${choice.name}"; known: ${names.join(", ")}${didYouMean(choice.name, names)}`,
    );
  }
  const splits = getDataset(choice.name).splits as readonly string[];
  if (!splits.includes(choice.split)) {
    throw new UsageError(
      `--split: ${choice.name} has splits ${splits.join(", ")}, not "${choice.split}"${didYouMean(choice.split, splits)}`,
    );
  }
  return openDataset(choice.name, {
    split: choice.split as "train",
    ...(choice.root === undefined ? {} : { root: choice.root }),
  });
}

/** The evaluation split of a dataset: `test` when it has one, else `val`. */
export function evaluationSplit(name: string): string {
  const splits = getDataset(name).splits as readonly string[];
  return splits.includes("test") ? "test" : splits.includes("val") ? "val" : splits[0]!;
}

/** A batch as tensors: NHWC images and labels, or depths `[B, H, W, 1]` with their validity mask. */
export type TensorBatch =
  | { kind: "classification"; images: tf.Tensor4D; labels: tf.Tensor1D }
  | { kind: "depth"; images: tf.Tensor4D; depths: tf.Tensor4D; mask: tf.Tensor4D };

/** Batch options that turn dataset images into what the ViT expects: its size, channels and mean/std. */
export function batchOptionsFor(config: ViTConfig, batchSize: number): BatchOptions {
  return {
    batchSize,
    size: [config.imageSize, config.imageSize],
    channels: config.channels as 1 | 3,
    normalize: { mean: config.imageMean, std: config.imageStd },
  };
}

/** Converts a `@kora/datasets` batch to tensors (the caller disposes them). */
export function toTensors(batch: ImageBatch | DepthBatch): TensorBatch {
  const images = tf.tensor4d(batch.images, batch.shape);
  if ("labels" in batch) {
    return { kind: "classification", images, labels: tf.tensor1d(batch.labels, "int32") };
  }
  const [n, h, w] = batch.shape;
  return {
    kind: "depth",
    images,
    depths: tf.tensor4d(batch.depths, [n, h, w, 1]),
    mask: tf.tensor4d(Float32Array.from(batch.mask), [n, h, w, 1]),
  };
}

/** One pass over `indices` (or the whole dataset) as tensor batches. */
export async function* tensorBatches(dataset: Dataset, options: BatchOptions): AsyncGenerator<TensorBatch> {
  for await (const batch of iterateBatches(dataset, options)) yield toTensors(batch);
}
