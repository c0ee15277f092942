import { hashSeed } from "@kora/spec";
import { checkInteger, datasetError } from "../errors";
import { createRandom } from "../random/rng";
import type { ClassificationDataset, Dataset, DepthDataset, SegmentationDataset } from "../types";
import {
  cropAndFlip,
  NORMALIZATIONS,
  type Normalization,
  normalizeInPlace,
  resizeBilinear,
  resizeNearest,
} from "./image-ops";
import { shuffleInPlace } from "./shuffle";

/** A batch of a classification dataset. */
export interface ImageBatch {
  /** Pixels, NHWC, float32 (scaled to [0, 1], then normalised when asked). */
  images: Float32Array;
  /** `[batch, height, width, channels]`. */
  shape: [number, number, number, number];
  /** Class labels. */
  labels: Int32Array;
  /** Dataset indices of the items, in batch order. */
  indices: Int32Array;
}

/** A batch of a depth dataset. */
export interface DepthBatch {
  /** Pixels, NHWC, float32. */
  images: Float32Array;
  /** `[batch, height, width, 3]`. */
  shape: [number, number, number, number];
  /** Depth in metres, `[batch, height, width]`; 0 where unknown. */
  depths: Float32Array;
  /** 1 where the depth is valid (finite, > 0, inside `depthRange`), else 0; same layout as `depths`. */
  mask: Uint8Array;
  /** Dataset indices of the items, in batch order. */
  indices: Int32Array;
}

/** A batch of a segmentation dataset. */
export interface SegmentationBatch {
  /** Pixels, NHWC, float32. */
  images: Float32Array;
  /** `[batch, height, width, channels]`. */
  shape: [number, number, number, number];
  /**
   * Class id of every pixel, `[batch, height, width]` (resized by nearest neighbour, so ids stay ids). Pixels that a
   * crop's padding brings in are class 0, the background.
   */
  masks: Int32Array;
  /** Dataset indices of the items, in batch order. */
  indices: Int32Array;
}

/** Augmentations applied to each item (the same draw to an image and its depth map or class map). */
export interface AugmentOptions {
  /** Random crop with this much zero-padding per side (`4` for CIFAR-style training); 0 = no crop. */
  padding?: number;
  /** Mirror left-right with probability ½. */
  flip?: boolean;
}

/** Options of {@link iterateBatches} and {@link loadBatch}. */
export interface BatchOptions {
  /** Items per batch. */
  batchSize: number;
  /** Shuffle the order every epoch (seeded). Default `false`. */
  shuffle?: boolean;
  /** Seed of shuffling and augmentation. Default 0. */
  seed?: number;
  /** Epoch number, mixed into the seed so each epoch has its own order and augmentations. Default 0. */
  epoch?: number;
  /** Use only these dataset indices (e.g. a {@link stratifiedSubset}), in this order before shuffling. */
  indices?: ArrayLike<number>;
  /** Drop a last batch smaller than `batchSize`. Default `false`. */
  dropLast?: boolean;
  /** Random crop / flip. Default: none. */
  augment?: AugmentOptions;
  /** Output `[height, width]` (bilinear for images, nearest for depth and class maps). Default: the dataset's size. */
  size?: readonly [height: number, width: number];
  /** Output channels: 3 replicates grayscale to RGB, 1 converts RGB to luma. Default: the dataset's. */
  channels?: 1 | 3;
  /** Normalisation after scaling to [0, 1]: a preset name or mean/std. Default: none. */
  normalize?: Normalization | keyof typeof NORMALIZATIONS;
  /** Depth batches: valid depth range for the mask, `[min, max]` metres. Default `[0, Infinity]` (exclusive 0). */
  depthRange?: readonly [number, number];
  /** Batches decoded ahead of the consumer by {@link iterateBatches}. Default 2. */
  prefetch?: number;
}

function toFloatChannels(image: Uint8Array, channels: number, target: number): Float32Array {
  const pixels = image.length / channels;
  const out = new Float32Array(pixels * target);
  if (channels === target) {
    out.set(image);
  } else if (channels === 1 && target === 3) {
    for (let p = 0; p < pixels; p++) {
      const v = image[p]!;
      out[p * 3] = v;
      out[p * 3 + 1] = v;
      out[p * 3 + 2] = v;
    }
  } else if (channels === 3 && target === 1) {
    for (let p = 0; p < pixels; p++)
      out[p] = 0.299 * image[p * 3]! + 0.587 * image[p * 3 + 1]! + 0.114 * image[p * 3 + 2]!;
  } else {
    throw datasetError("INVALID_ARGUMENT", `cannot convert ${channels} channels to ${target}`, "channels");
  }
  return out;
}

function resolveNormalization(option: BatchOptions["normalize"]): Normalization | undefined {
  if (option === undefined) return undefined;
  if (typeof option === "string") {
    const preset = NORMALIZATIONS[option];
    if (preset === undefined) {
      throw datasetError(
        "INVALID_ARGUMENT",
        `unknown normalisation preset ${JSON.stringify(option)}`,
        "normalize",
      );
    }
    return preset;
  }
  return option;
}

/**
 * Decodes, augments, resizes and normalises the items `indices` of `dataset` into one batch, synchronously.
 * Augmentation draws depend on `(seed, epoch, position + k)` only, so a batch is the same whoever loads it.
 *
 * @param position - position of the first item in the epoch's order (seeds the augmentation). Default 0.
 */
export function loadBatch(
  dataset: ClassificationDataset,
  indices: ArrayLike<number>,
  options: BatchOptions,
  position?: number,
): ImageBatch;
/** {@link loadBatch} for a depth dataset: images, depths and a validity mask. */
export function loadBatch(
  dataset: DepthDataset,
  indices: ArrayLike<number>,
  options: BatchOptions,
  position?: number,
): DepthBatch;
/** {@link loadBatch} for a segmentation dataset: images and class maps. */
export function loadBatch(
  dataset: SegmentationDataset,
  indices: ArrayLike<number>,
  options: BatchOptions,
  position?: number,
): SegmentationBatch;
/** {@link loadBatch} for any dataset. */
export function loadBatch(
  dataset: Dataset,
  indices: ArrayLike<number>,
  options: BatchOptions,
  position?: number,
): ImageBatch | DepthBatch | SegmentationBatch;
export function loadBatch(
  dataset: Dataset,
  indices: ArrayLike<number>,
  options: BatchOptions,
  position = 0,
): ImageBatch | DepthBatch | SegmentationBatch {
  const [h, w, c] = dataset.imageShape;
  const [outH, outW] = options.size ?? [h, w];
  const outC = options.channels ?? c;
  const n = indices.length;
  const stride = outH * outW * outC;
  const images = new Float32Array(n * stride);
  const normalization = resolveNormalization(options.normalize);
  const padding = options.augment?.padding ?? 0;
  checkInteger(padding, "augment.padding", 0, 1024);
  const flip = options.augment?.flip ?? false;
  const seed = options.seed ?? 0;
  const epoch = options.epoch ?? 0;
  const itemIndices = Int32Array.from(indices);
  const labels = new Int32Array(n);
  const isDepth = dataset.task === "depth";
  const pixels = outH * outW;
  const depths = isDepth ? new Float32Array(n * pixels) : undefined;
  const mask = isDepth ? new Uint8Array(n * pixels) : undefined;
  const isSegmentation = dataset.task === "segmentation";
  const masks = isSegmentation ? new Int32Array(n * pixels) : undefined;
  const [minDepth, maxDepth] = options.depthRange ?? [0, Number.POSITIVE_INFINITY];
  for (let k = 0; k < n; k++) {
    const index = itemIndices[k]!;
    const sample = dataset.get(index);
    let image = toFloatChannels(sample.image, c, outC);
    let depth: Float32Array | undefined = "depth" in sample ? sample.depth : undefined;
    // Class ids go through the same float crop / nearest resize as depth: small integers survive float32 exactly.
    let classes: Uint8Array | Float32Array | undefined = "mask" in sample ? sample.mask : undefined;
    if (padding > 0 || flip) {
      const rng = createRandom(hashSeed(seed, epoch, "augment", position + k));
      const window = {
        top: padding > 0 ? rng.int(2 * padding + 1) : 0,
        left: padding > 0 ? rng.int(2 * padding + 1) : 0,
        padding,
        flip: flip && rng.next() < 0.5,
      };
      image = cropAndFlip(image, [h, w, outC], window);
      if (depth !== undefined) depth = cropAndFlip(depth, [h, w, 1], window);
      if (classes !== undefined) classes = cropAndFlip(classes, [h, w, 1], window);
    }
    // Normalise before resizing: bilinear weights sum to 1, so the result is the same and there are fewer pixels.
    normalizeInPlace(image, outC, normalization);
    const slot = images.subarray(k * stride, (k + 1) * stride);
    if (outH !== h || outW !== w) resizeBilinear(image, [h, w, outC], outH, outW, slot);
    else slot.set(image);
    if (isDepth && depth !== undefined) {
      const depthSlot = depths!.subarray(k * pixels, (k + 1) * pixels);
      if (outH !== h || outW !== w) resizeNearest(depth, [h, w, 1], outH, outW, depthSlot);
      else depthSlot.set(depth);
      for (let p = 0; p < pixels; p++) {
        const d = depthSlot[p]!;
        const valid = Number.isFinite(d) && d > minDepth && d <= maxDepth;
        mask![k * pixels + p] = valid ? 1 : 0;
        if (!valid) depthSlot[p] = 0;
      }
    } else if (isSegmentation && classes !== undefined) {
      const resized = outH !== h || outW !== w ? resizeNearest(classes, [h, w, 1], outH, outW) : classes;
      masks!.set(resized, k * pixels);
    } else if ("label" in sample) {
      labels[k] = sample.label;
    }
  }
  const shape: [number, number, number, number] = [n, outH, outW, outC];
  if (isDepth) return { images, shape, depths: depths!, mask: mask!, indices: itemIndices };
  if (isSegmentation) return { images, shape, masks: masks!, indices: itemIndices };
  return { images, shape, labels, indices: itemIndices };
}

/** The epoch's item order: `indices` (or all items), shuffled with `(seed, epoch)` when `shuffle` is set. */
export function epochOrder(
  dataset: Dataset,
  options: Pick<BatchOptions, "indices" | "shuffle" | "seed" | "epoch">,
): Int32Array {
  const order =
    options.indices === undefined
      ? Int32Array.from({ length: dataset.size }, (_, i) => i)
      : Int32Array.from(options.indices);
  for (let i = 0; i < order.length; i++) {
    if (order[i]! < 0 || order[i]! >= dataset.size) {
      throw datasetError(
        "INVALID_ARGUMENT",
        `indices[${i}] = ${order[i]} is out of range [0, ${dataset.size})`,
        "indices",
      );
    }
  }
  if (options.shuffle) shuffleInPlace(order, hashSeed(options.seed ?? 0, "epoch", options.epoch ?? 0));
  return order;
}

const defer: (callback: () => void) => void =
  typeof (globalThis as { setImmediate?: unknown }).setImmediate === "function"
    ? (callback) =>
        (globalThis as unknown as { setImmediate: (cb: () => void) => void }).setImmediate(callback)
    : (callback) => setTimeout(callback, 0);

/**
 * One epoch of batches as an async iterable. Up to `prefetch` batches are decoded ahead, each in its own
 * macrotask, so decoding interleaves with a training loop that awaits (tfjs `await model.fit`, `await data()`).
 * Batches are the same (content and order) whatever `prefetch` is.
 *
 * @example
 * ```ts
 * for await (const batch of iterateBatches(train, { batchSize: 64, shuffle: true, epoch, augment: { padding: 4, flip: true } })) {
 *   await step(batch.images, batch.shape, batch.labels);
 * }
 * ```
 */
export function iterateBatches(
  dataset: ClassificationDataset,
  options: BatchOptions,
): AsyncIterable<ImageBatch>;
/** {@link iterateBatches} for a depth dataset. */
export function iterateBatches(dataset: DepthDataset, options: BatchOptions): AsyncIterable<DepthBatch>;
/** {@link iterateBatches} for a segmentation dataset. */
export function iterateBatches(
  dataset: SegmentationDataset,
  options: BatchOptions,
): AsyncIterable<SegmentationBatch>;
/** {@link iterateBatches} for any dataset. */
export function iterateBatches(
  dataset: Dataset,
  options: BatchOptions,
): AsyncIterable<ImageBatch | DepthBatch | SegmentationBatch>;
export function iterateBatches(
  dataset: Dataset,
  options: BatchOptions,
): AsyncIterable<ImageBatch | DepthBatch | SegmentationBatch> {
  checkInteger(options.batchSize, "batchSize", 1);
  const prefetch = options.prefetch ?? 2;
  checkInteger(prefetch, "prefetch", 0, 1024);
  return {
    async *[Symbol.asyncIterator]() {
      const order = epochOrder(dataset, options);
      const count = batchCount(order.length, options);
      const queue: Promise<ImageBatch | DepthBatch | SegmentationBatch>[] = [];
      let next = 0;
      const schedule = () => {
        const b = next++;
        const start = b * options.batchSize;
        const items = order.subarray(start, Math.min(order.length, start + options.batchSize));
        const promise = new Promise<ImageBatch | DepthBatch | SegmentationBatch>((resolve, reject) => {
          defer(() => {
            try {
              resolve(loadBatch(dataset, items, options, start));
            } catch (error) {
              reject(error);
            }
          });
        });
        // Avoid an unhandled rejection if the consumer stops before reaching this batch.
        promise.catch(() => undefined);
        queue.push(promise);
      };
      while (next < count && queue.length <= prefetch) schedule();
      while (queue.length > 0) {
        const batch = await queue.shift()!;
        if (next < count) schedule();
        yield batch;
      }
    },
  };
}

/** Number of batches an epoch of `items` items has with these options. */
export function batchCount(items: number, options: Pick<BatchOptions, "batchSize" | "dropLast">): number {
  checkInteger(options.batchSize, "batchSize", 1);
  return options.dropLast ? Math.floor(items / options.batchSize) : Math.ceil(items / options.batchSize);
}
