import type { DepthDataset } from "@kora/datasets";
import { DepthHead, type ViTHead } from "@kora/vit";
import * as tf from "@tensorflow/tfjs";
import { finetuneError } from "../errors";
import { SegmentationHead } from "./segmentation-head";
import type { Task } from "./task";

/** Options of {@link depthTask}. */
export interface DepthTaskOptions {
  /**
   * Valid depth range `[min, max]` metres: pixels outside (or without a depth) are masked out of the loss and the
   * metrics. Default `[1e-3, 10]`, NYU Depth V2's convention and `@kora/metrics`' default.
   */
  range?: readonly [number, number];
  /**
   * Metres the fresh head predicts everywhere before training: its bias starts at `log(initialDepth)` (the
   * output is log-depth). Give the training data's median depth and an untrained model is the constant-median
   * predictor, so whatever training adds is measured from that baseline and not from `exp(0)` = 1 m.
   * Default: none (the head's own initialisation).
   */
  initialDepth?: number | undefined;
}

/** The monocular depth task. */
export interface DepthTask extends Task<"depth"> {
  readonly depthRange: readonly [number, number];
}

/**
 * Monocular depth. The depth head's output is read as log-depth: the loss is the mean absolute error of log-depth
 * over the valid pixels of the batch, and the decoding is `exp(output)` metres.
 *
 * Why this pair (and not a scale-invariant loss on `exp(clip(output, ±6))`): the reported metrics (RMSE, AbsRel,
 * δ) are absolute-scale, so the loss pins the absolute scale; L1 in log space weighs near and far pixels by their
 * relative error, as AbsRel does; and no clip sits between the output and the loss, so a large output still gets
 * a gradient instead of a flat zero.
 *
 * @throws KoraError `INVALID_ARGUMENT` when the range is not `0 ≤ min < max`.
 */
export function depthTask(options: DepthTaskOptions = {}): DepthTask {
  const range = options.range ?? ([1e-3, 10] as const);
  const [min, max] = range;
  if (!(min >= 0 && max > min && Number.isFinite(max))) {
    throw finetuneError(
      "INVALID_ARGUMENT",
      `range must be [min, max] with 0 ≤ min < max < ∞, got [${min}, ${max}]`,
      "range",
    );
  }
  const initialDepth = options.initialDepth;
  if (initialDepth !== undefined && !(initialDepth > 0 && Number.isFinite(initialDepth))) {
    throw finetuneError(
      "INVALID_ARGUMENT",
      `initialDepth must be a positive number of metres, got ${initialDepth}`,
      "initialDepth",
    );
  }
  return {
    kind: "depth",
    depthRange: [min, max],
    lossName: "L1 on log depth",
    createHead: (config, seed) => {
      const head = new DepthHead(
        { dim: config.dim, patchSize: config.patchSize, imageSize: config.imageSize },
        { seed },
      );
      if (initialDepth !== undefined) {
        tf.tidy(() => head.bias.assign(tf.fill(head.bias.shape, Math.log(initialDepth))));
      }
      return head;
    },
    checkHead(head: ViTHead | null, where: string) {
      // A segmentation head is a pixel map too (kind "depth" in @kora/vit), but of class logits.
      if (head?.kind !== "depth" || head instanceof SegmentationHead) {
        const kind = head instanceof SegmentationHead ? "segmentation" : (head?.kind ?? "missing");
        throw finetuneError(
          "TASK_MISMATCH",
          `${where}: the model has a ${kind} head; depth needs a depth head`,
        );
      }
    },
    rawOutput(output) {
      if (output.depth === null) {
        throw finetuneError("TASK_MISMATCH", "the model has no depth head; its forward gave no depth map");
      }
      return output.depth;
    },
    loss: (raw, batch) =>
      tf.tidy(() => {
        // log of the masked-out depths (0) is -∞; they are replaced by 0 before the log and weighted 0 after.
        const valid = tf.cast(batch.mask, "bool");
        const logDepth = tf.log(tf.where(valid, batch.depths, tf.onesLike(batch.depths)));
        const error = tf.mul(tf.abs(tf.sub(raw, logDepth)), batch.mask);
        return tf.div(tf.sum(error), tf.maximum(tf.sum(batch.mask), 1)) as tf.Scalar;
      }),
    decode: (raw) => tf.exp(raw),
  };
}

/** Options of {@link medianDepth}. */
export interface MedianDepthOptions {
  /** The training items (default: every item). */
  indices?: ArrayLike<number> | undefined;
  /** Valid depth range `[min, max]` metres; other pixels are ignored. Default `[1e-3, 10]`. */
  range?: readonly [number, number] | undefined;
  /** Read at most this many items, evenly spaced over `indices` (bounds the time on large sets). Default 64. */
  maxItems?: number | undefined;
  /** Keep at most this many depth values in memory (pixels are strided to fit). Default 4 000 000. */
  maxValues?: number | undefined;
}

/**
 * The median valid depth of a depth dataset's training items, in metres: the prediction of the constant-median
 * baseline, and the `initialDepth` of a depth head (see {@link DepthTaskOptions.initialDepth}). Deterministic; reads
 * a bounded, evenly spaced sample of the items and pixels. The midpoint of the range when no pixel is valid.
 */
export function medianDepth(dataset: DepthDataset, options: MedianDepthOptions = {}): number {
  const [min, max] = options.range ?? [1e-3, 10];
  const indices = options.indices ?? Array.from({ length: dataset.size }, (_, i) => i);
  const maxItems = Math.max(1, options.maxItems ?? 64);
  const count = Math.min(indices.length, maxItems);
  const [h, w] = dataset.depthShape;
  const stride = Math.max(1, Math.ceil((count * h * w) / (options.maxValues ?? 4_000_000)));
  const values: number[] = [];
  for (let k = 0; k < count; k++) {
    const item = indices[Math.floor((k * indices.length) / count)] as number;
    const depth = dataset.get(item).depth;
    for (let p = 0; p < depth.length; p += stride) {
      const d = depth[p] as number;
      if (d >= min && d <= max) values.push(d);
    }
  }
  if (values.length === 0) return (min + max) / 2;
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
