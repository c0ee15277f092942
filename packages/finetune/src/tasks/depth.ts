import { DepthHead, type ViTHead } from "@kora/vit";
import * as tf from "@tensorflow/tfjs";
import { finetuneError } from "../errors";
import type { Task } from "./task";

/** Options of {@link depthTask}. */
export interface DepthTaskOptions {
  /**
   * Valid depth range `[min, max]` metres: pixels outside (or without a depth) are masked out of the loss and the
   * metrics. Default `[1e-3, 10]`, NYU Depth V2's convention and `@kora/metrics`' default.
   */
  range?: readonly [number, number];
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
  return {
    kind: "depth",
    depthRange: [min, max],
    lossName: "L1 on log depth",
    createHead: (config, seed) =>
      new DepthHead({ dim: config.dim, patchSize: config.patchSize, imageSize: config.imageSize }, { seed }),
    checkHead(head: ViTHead | null, where: string) {
      if (head?.kind !== "depth") {
        throw finetuneError(
          "TASK_MISMATCH",
          `${where}: the model has a ${head?.kind ?? "missing"} head; depth needs a depth head`,
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
