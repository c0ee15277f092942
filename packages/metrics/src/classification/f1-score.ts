import { KoraError } from "../errors";
import type { MetricsErrorCode } from "../errors/kora-error";
import { type Label, type LabelArray, labelIndex, resolveLabels, toLabelPair } from "./labels";

/** How per-class scores are combined. */
export type Average = "macro" | "micro" | "weighted" | "none";

/** Options of {@link f1Score} and {@link precisionRecallF1Support}. */
export interface F1ScoreOptions {
  /**
   * `"macro"` (default): unweighted mean over labels; `"weighted"`: mean weighted by support (number of true
   * examples); `"micro"`: from the summed counts (equals accuracy when all labels are included); `"none"`: one
   * score per label.
   */
  average?: Average;
  /**
   * Value used when a score's denominator is 0 (precision with no prediction of the class, recall with no true
   * example, F1 with neither): `0` (default, scikit-learn's `"warn"` without the warning), `1`, or `NaN`. NaN
   * scores are left out of macro and weighted means, as scikit-learn does.
   */
  zeroDivision?: number;
  /** Labels to score, in this order. Default: sorted union of `yTrue` and `yPred`. */
  labels?: LabelArray;
}

/** Per-label precision, recall, F1 and support (as scikit-learn's `precision_recall_fscore_support(average=None)`). */
export interface PrecisionRecallF1Support {
  /** The labels, in the order of the arrays below. */
  labels: Label[];
  /** `tp / (tp + fp)` per label. */
  precision: number[];
  /** `tp / (tp + fn)` per label. */
  recall: number[];
  /** `2tp / (2tp + fp + fn)` per label. */
  f1: number[];
  /** Number of true examples of each label. */
  support: number[];
}

/** Validates zeroDivision. @internal */
export function checkZeroDivision(value: number | undefined): number {
  const z = value ?? 0;
  if (!(z === 0 || z === 1 || Number.isNaN(z))) {
    throw new KoraError<MetricsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `options.zeroDivision must be 0, 1 or NaN, got ${String(value)}`,
      path: "options.zeroDivision",
    });
  }
  return z;
}

/** @internal */
export interface Counts {
  labels: Label[];
  tp: number[];
  fp: number[];
  fn: number[];
}

/** True-positive, false-positive and false-negative counts per label. @internal */
export function countPerLabel(yTrue: LabelArray, yPred: LabelArray, given: LabelArray | undefined): Counts {
  const [t, p] = toLabelPair(yTrue, yPred);
  const labels = resolveLabels(given, t, p);
  const index = labelIndex(labels);
  const tp = new Array<number>(labels.length).fill(0);
  const fp = new Array<number>(labels.length).fill(0);
  const fn = new Array<number>(labels.length).fill(0);
  for (let i = 0; i < t.length; i++) {
    const ti = index.get(t[i]!);
    const pi = index.get(p[i]!);
    if (t[i] === p[i]) {
      if (ti !== undefined) tp[ti]!++;
    } else {
      if (pi !== undefined) fp[pi]!++;
      if (ti !== undefined) fn[ti]!++;
    }
  }
  return { labels, tp, fp, fn };
}

const divide = (num: number, den: number, zeroDivision: number): number =>
  den === 0 ? zeroDivision : num / den;

/** Scores from counts (one entry per label, or a single micro entry). @internal */
export function scoresFromCounts(
  tp: number[],
  fp: number[],
  fn: number[],
  zeroDivision: number,
): { precision: number[]; recall: number[]; f1: number[]; support: number[] } {
  return {
    precision: tp.map((v, i) => divide(v, v + fp[i]!, zeroDivision)),
    recall: tp.map((v, i) => divide(v, v + fn[i]!, zeroDivision)),
    f1: tp.map((v, i) => divide(2 * v, 2 * v + fp[i]! + fn[i]!, zeroDivision)),
    support: tp.map((v, i) => v + fn[i]!),
  };
}

/** scikit-learn's `_nanaverage`: mean ignoring NaN; with weights, weighted (plain mean if all weights are 0). @internal */
export function nanAverage(values: number[], weights?: number[]): number {
  let sum = 0;
  let weightSum = 0;
  let plain = 0;
  let count = 0;
  values.forEach((v, i) => {
    if (Number.isNaN(v)) return;
    const w = weights === undefined ? 1 : weights[i]!;
    sum += v * w;
    weightSum += w;
    plain += v;
    count++;
  });
  if (count === 0) return Number.NaN;
  return weightSum === 0 ? plain / count : sum / weightSum;
}

/**
 * Per-label precision, recall, F1 and support with scikit-learn's zero-division rules.
 *
 * @throws KoraError `SHAPE_MISMATCH`, `TOO_FEW_EXAMPLES`, `NON_FINITE`, `INVALID_ARGUMENT`.
 */
export function precisionRecallF1Support(
  yTrue: LabelArray,
  yPred: LabelArray,
  options: Omit<F1ScoreOptions, "average"> = {},
): PrecisionRecallF1Support {
  const zeroDivision = checkZeroDivision(options.zeroDivision);
  const { labels, tp, fp, fn } = countPerLabel(yTrue, yPred, options.labels);
  return { labels, ...scoresFromCounts(tp, fp, fn, zeroDivision) };
}

/**
 * F1 score with scikit-learn `f1_score` semantics: per label `F1 = 2tp / (2tp + fp + fn)`, `zeroDivision` when
 * that denominator is 0 (a label neither true nor predicted, only possible with explicit `labels`), then
 * averaged as `average` says.
 *
 * @returns A number, or one number per label for `average: "none"`.
 * @throws KoraError `SHAPE_MISMATCH`, `TOO_FEW_EXAMPLES`, `NON_FINITE`, `INVALID_ARGUMENT`.
 * @see https://scikit-learn.org/stable/modules/generated/sklearn.metrics.f1_score.html
 */
export function f1Score(
  yTrue: LabelArray,
  yPred: LabelArray,
  options: F1ScoreOptions & { average: "none" },
): number[];
export function f1Score(
  yTrue: LabelArray,
  yPred: LabelArray,
  options?: F1ScoreOptions & { average?: Exclude<Average, "none"> },
): number;
export function f1Score(yTrue: LabelArray, yPred: LabelArray, options?: F1ScoreOptions): number | number[];
export function f1Score(
  yTrue: LabelArray,
  yPred: LabelArray,
  options: F1ScoreOptions = {},
): number | number[] {
  const average = options.average ?? "macro";
  if (!["macro", "micro", "weighted", "none"].includes(average)) {
    throw new KoraError<MetricsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `options.average must be "macro", "micro", "weighted" or "none", got ${String(average)}`,
      path: "options.average",
    });
  }
  const zeroDivision = checkZeroDivision(options.zeroDivision);
  const { tp, fp, fn } = countPerLabel(yTrue, yPred, options.labels);
  if (average === "micro") {
    const sum = (a: number[]): number => a.reduce((s, v) => s + v, 0);
    return scoresFromCounts([sum(tp)], [sum(fp)], [sum(fn)], zeroDivision).f1[0]!;
  }
  const scores = scoresFromCounts(tp, fp, fn, zeroDivision);
  if (average === "none") return scores.f1;
  return nanAverage(scores.f1, average === "weighted" ? scores.support : undefined);
}
