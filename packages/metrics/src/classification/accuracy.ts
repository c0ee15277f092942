import { KoraError } from "../errors";
import type { MetricsErrorCode } from "../errors/kora-error";
import { type MatrixLike, toDense } from "../matrix";
import { type LabelArray, toLabelPair, toLabels } from "./labels";

/**
 * Fraction of examples whose predicted label equals the true label.
 *
 * @throws KoraError `SHAPE_MISMATCH` (lengths differ), `TOO_FEW_EXAMPLES` (empty), `NON_FINITE`, `INVALID_ARGUMENT`.
 */
export function accuracy(yTrue: LabelArray, yPred: LabelArray): number {
  const [t, p] = toLabelPair(yTrue, yPred);
  let hits = 0;
  for (let i = 0; i < t.length; i++) if (t[i] === p[i]) hits++;
  return hits / t.length;
}

/** Options of {@link topKAccuracy}. */
export interface TopKAccuracyOptions {
  /** How many of the highest-scoring classes count as a hit. A positive integer; default `5`. */
  k?: number;
}

/**
 * Top-k accuracy: the fraction of examples whose true class is among the k highest scores, as scikit-learn's
 * `top_k_accuracy_score` (ties broken like its stable descending sort: among equal scores the higher class
 * index ranks first).
 *
 * @param yTrue - True class indices in `[0, classes)`.
 * @param scores - n × classes scores (logits or probabilities), rows = examples.
 * @throws KoraError `SHAPE_MISMATCH`, `NON_FINITE`, `INVALID_ARGUMENT` (k, class index out of range),
 *   `TOO_FEW_EXAMPLES`.
 */
export function topKAccuracy(
  yTrue: ArrayLike<number>,
  scores: MatrixLike,
  options: TopKAccuracyOptions = {},
): number {
  const k = options.k ?? 5;
  if (!Number.isInteger(k) || k < 1) {
    throw new KoraError<MetricsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `options.k must be a positive integer, got ${k}`,
      path: "options.k",
    });
  }
  const labels = toLabels(yTrue, "yTrue") as number[];
  const s = toDense(scores, "scores");
  if (s.rows !== labels.length) {
    throw new KoraError<MetricsErrorCode>({
      code: "SHAPE_MISMATCH",
      message: `scores must have one row per label: ${labels.length} labels, ${s.rows} rows`,
      path: "scores",
    });
  }
  if (labels.length === 0) {
    throw new KoraError<MetricsErrorCode>({
      code: "TOO_FEW_EXAMPLES",
      message: "at least one example is needed",
      path: "yTrue",
    });
  }
  const classes = s.cols;
  let hits = 0;
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i]!;
    if (typeof c !== "number" || !Number.isInteger(c) || c < 0 || c >= classes) {
      throw new KoraError<MetricsErrorCode>({
        code: "INVALID_ARGUMENT",
        message: `yTrue[${i}] = ${String(c)} is not a class index in [0, ${classes})`,
        path: `yTrue[${i}]`,
      });
    }
    const off = i * classes;
    const target = s.data[off + c]!;
    let rank = 0;
    for (let j = 0; j < classes; j++) {
      const v = s.data[off + j]!;
      if (v > target || (v === target && j > c)) rank++;
    }
    if (rank < k) hits++;
  }
  return hits / labels.length;
}
