import { crossEntropy } from "@kora/tfjs";
import type { ViTHead } from "@kora/vit";
import * as tf from "@tensorflow/tfjs";
import { checkInteger, finetuneError } from "../errors";
import { SegmentationHead } from "./segmentation-head";
import type { Task } from "./task";

/** Options of {@link segmentationTask}. */
export interface SegmentationTaskOptions {
  /** Number of classes K of the head, background included (≥ 2). */
  classes: number;
  /**
   * Ground-truth id of pixels left out of the loss and the metrics (void, unlabelled). Default 255, as
   * `@kora/metrics`' `segmentationMetrics`. Must lie outside `0 … K−1`.
   */
  ignoreIndex?: number;
}

/** The semantic segmentation task. */
export interface SegmentationTask extends Task<"segmentation"> {
  readonly classes: number;
  readonly ignoreIndex: number;
}

/**
 * Semantic segmentation with `classes` classes: a {@link SegmentationHead} (a linear layer on every patch token,
 * its logits upsampled bilinearly to the pixels); loss: the mean pixel-wise cross-entropy over the batch's pixels
 * whose ground truth is not `ignoreIndex`; decoding: the arg-max class of every pixel.
 *
 * @throws KoraError `INVALID_ARGUMENT` when `classes` is not an integer ≥ 2 or `ignoreIndex` is a class id.
 */
export function segmentationTask(options: SegmentationTaskOptions): SegmentationTask {
  const { classes } = options;
  checkInteger(classes, "classes", 2);
  const ignoreIndex = options.ignoreIndex ?? 255;
  if (!Number.isInteger(ignoreIndex) || (ignoreIndex >= 0 && ignoreIndex < classes)) {
    throw finetuneError(
      "INVALID_ARGUMENT",
      `ignoreIndex must be an integer outside 0 … ${classes - 1}, got ${ignoreIndex}`,
      "ignoreIndex",
    );
  }
  return {
    kind: "segmentation",
    classes,
    ignoreIndex,
    lossName: "pixel-wise cross-entropy",
    createHead: (config, seed) =>
      new SegmentationHead(
        { dim: config.dim, patchSize: config.patchSize, imageSize: config.imageSize, classes },
        seed,
      ),
    checkHead(head: ViTHead | null, where: string) {
      if (!(head instanceof SegmentationHead)) {
        throw finetuneError(
          "TASK_MISMATCH",
          `${where}: the model has a ${head?.kind ?? "missing"} head; segmentation needs a segmentation head`,
        );
      }
      if (head.classes !== classes) {
        throw finetuneError(
          "TASK_MISMATCH",
          `${where}: the segmentation head has ${head.classes} classes, the task ${classes}`,
        );
      }
    },
    rawOutput(output) {
      const map = output.depth;
      if (map === null || map.shape[3] !== classes) {
        throw finetuneError(
          "TASK_MISMATCH",
          `the model's forward gave ${map === null ? "no pixel map" : `a map of ${map.shape[3]} channels`}; segmentation needs ${classes} class logits per pixel`,
        );
      }
      return map;
    },
    loss: (raw, batch) =>
      tf.tidy(() => crossEntropy(tf.reshape(raw, [-1, classes]), batch.labels, { ignoreIndex })),
    decode: (raw) => tf.tidy(() => tf.cast(tf.argMax(raw, -1), "int32")),
  };
}
