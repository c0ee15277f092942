import { KoraError } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import type { TfjsErrorCode } from "../errors";

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions {
  /**
   * Label smoothing ε in `[0, 1)` (default 0), PyTorch semantics: the target becomes `(1 − ε)·onehot + ε / K`,
   * i.e. the loss is `(1 − ε)·NLL + ε · mean_k(−log p_k)`.
   */
  labelSmoothing?: number;
  /** Examples whose label equals this value are excluded from the mean (default −100, as PyTorch). */
  ignoreIndex?: number;
}

function labelTensor(labels: tf.Tensor | Int32Array | readonly number[]): tf.Tensor1D {
  if (labels instanceof tf.Tensor) return tf.cast(labels.flatten(), "int32") as tf.Tensor1D;
  return tf.tensor1d(Array.from(labels), "int32");
}

/**
 * Mean cross-entropy between `logits: [n, K]` and integer class `labels: [n]`, as PyTorch's
 * `F.cross_entropy(logits, labels, label_smoothing=ε, ignore_index=…)` with mean reduction over the examples that
 * are not ignored (0 when all are). Computed from `logSoftmax`, so large logits do not overflow.
 */
export function crossEntropy(
  logits: tf.Tensor,
  labels: tf.Tensor | Int32Array | readonly number[],
  options: CrossEntropyOptions = {},
): tf.Scalar {
  const { labelSmoothing = 0, ignoreIndex = -100 } = options;
  if (!(labelSmoothing >= 0 && labelSmoothing < 1)) {
    throw new KoraError<TfjsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `labelSmoothing must be in [0, 1), got ${labelSmoothing}`,
      path: "labelSmoothing",
    });
  }
  if (logits.rank !== 2) {
    throw new KoraError<TfjsErrorCode>({
      code: "SHAPE_MISMATCH",
      message: `crossEntropy expects logits [n, classes], got [${logits.shape}]`,
    });
  }
  return tf.tidy(() => {
    const [n, classes] = logits.shape as [number, number];
    const y = labelTensor(labels);
    if (y.size !== n) {
      throw new KoraError<TfjsErrorCode>({
        code: "SHAPE_MISMATCH",
        message: `crossEntropy: ${n} rows of logits but ${y.size} labels`,
      });
    }
    const valid = tf.cast(tf.notEqual(y, ignoreIndex), "float32");
    const safe = tf.where(tf.notEqual(y, ignoreIndex), y, tf.zerosLike(y));
    const logProbabilities = tf.logSoftmax(tf.cast(logits, "float32"));
    const target = tf.add(
      tf.mul(tf.oneHot(safe, classes).toFloat(), 1 - labelSmoothing),
      labelSmoothing / classes,
    );
    const perExample = tf.neg(tf.sum(tf.mul(target, logProbabilities), 1));
    const count = tf.maximum(tf.sum(valid), 1);
    return tf.div(tf.sum(tf.mul(perExample, valid)), count) as tf.Scalar;
  });
}

/** Options of the depth losses {@link depthL1Loss} and {@link scaleInvariantLogLoss}. */
export interface DepthLossOptions {
  /**
   * Extra validity mask, the shape of `target` (non-zero = use the pixel). Pixels are always excluded where the
   * target is non-finite or ≤ `minDepth`, or ≥ `maxDepth` when set.
   */
  mask?: tf.Tensor;
  /** Target depths at or below this are invalid (default 0: missing depth is stored as 0). */
  minDepth?: number;
  /** Target depths at or above this are invalid (default: no upper bound). */
  maxDepth?: number;
}

/** Valid-pixel mask (float32 0/1) and a target with invalid pixels replaced by 1 (so log and diff stay finite). */
function validPixels(
  prediction: tf.Tensor,
  target: tf.Tensor,
  options: DepthLossOptions,
): { valid: tf.Tensor; safeTarget: tf.Tensor } {
  if (prediction.size !== target.size) {
    throw new KoraError<TfjsErrorCode>({
      code: "SHAPE_MISMATCH",
      message: `depth loss: prediction [${prediction.shape}] and target [${target.shape}] differ in size`,
    });
  }
  const t = tf.reshape(tf.cast(target, "float32"), prediction.shape);
  let ok = tf.logicalAnd(tf.isFinite(t), tf.greater(t, options.minDepth ?? 0));
  if (options.maxDepth !== undefined) ok = tf.logicalAnd(ok, tf.less(t, options.maxDepth));
  if (options.mask !== undefined) {
    ok = tf.logicalAnd(ok, tf.notEqual(tf.reshape(options.mask, prediction.shape), 0));
  }
  return { valid: tf.cast(ok, "float32"), safeTarget: tf.where(ok, t, tf.onesLike(t)) };
}

/**
 * Mean absolute error over valid pixels of the whole batch (`mean |pred − target|` over pixels with valid depth,
 * 0 when none is valid). `prediction` and `target` hold depths of the same size (`[n, h, w]` or `[n, h, w, 1]`).
 */
export function depthL1Loss(
  prediction: tf.Tensor,
  target: tf.Tensor,
  options: DepthLossOptions = {},
): tf.Scalar {
  return tf.tidy(() => {
    const { valid, safeTarget } = validPixels(prediction, target, options);
    const error = tf.mul(tf.abs(tf.sub(prediction, safeTarget)), valid);
    return tf.div(tf.sum(error), tf.maximum(tf.sum(valid), 1)) as tf.Scalar;
  });
}

/** Options of {@link scaleInvariantLogLoss}. */
export interface ScaleInvariantLogLossOptions extends DepthLossOptions {
  /** Weight λ of the scale-invariant term, in `[0, 1]` (default 0.5, as Eigen et al. train with). */
  lambda?: number;
  /** Predictions are clamped to at least this before the log (default 1e-6). */
  epsilon?: number;
}

/**
 * The scale-invariant log loss of Eigen, Puhrsch & Fergus (NeurIPS 2014, eq. 4), per image over its valid pixels
 * then averaged over the images that have any: with `d = log(pred) − log(target)` and `n` valid pixels,
 * `L = (1/n) Σ d² − (λ/n²) (Σ d)²`. λ = 0 is the plain log MSE, λ = 1 fully scale-invariant.
 * `prediction: [n, …]` and `target` of the same size; the first dimension is the image.
 */
export function scaleInvariantLogLoss(
  prediction: tf.Tensor,
  target: tf.Tensor,
  options: ScaleInvariantLogLossOptions = {},
): tf.Scalar {
  const { lambda = 0.5, epsilon = 1e-6 } = options;
  if (!(lambda >= 0 && lambda <= 1)) {
    throw new KoraError<TfjsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `lambda must be in [0, 1], got ${lambda}`,
      path: "lambda",
    });
  }
  return tf.tidy(() => {
    const { valid, safeTarget } = validPixels(prediction, target, options);
    const images = prediction.shape[0] ?? 1;
    const safePrediction = tf.where(
      tf.cast(valid, "bool"),
      tf.maximum(prediction, epsilon),
      tf.onesLike(prediction),
    );
    const d = tf.reshape(tf.mul(tf.sub(tf.log(safePrediction), tf.log(safeTarget)), valid), [images, -1]);
    const count = tf.sum(tf.reshape(valid, [images, -1]), 1);
    const safeCount = tf.maximum(count, 1);
    const perImage = tf.sub(
      tf.div(tf.sum(tf.square(d), 1), safeCount),
      tf.mul(tf.div(tf.square(tf.sum(d, 1)), tf.square(safeCount)), lambda),
    );
    const hasPixels = tf.cast(tf.greater(count, 0), "float32");
    return tf.div(tf.sum(tf.mul(perImage, hasPixels)), tf.maximum(tf.sum(hasPixels), 1)) as tf.Scalar;
  });
}
