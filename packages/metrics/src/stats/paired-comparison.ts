import { KoraError } from "../errors";
import type { MetricsErrorCode } from "../errors/kora-error";
import { studentTCdf, studentTQuantile } from "./student-t";

/** Options of {@link pairedComparison}. */
export interface PairedComparisonOptions {
  /**
   * Whether larger values of the metric are better (accuracy, CKA: `true`; RMSE: `false`). The differences are
   * taken in the claimed direction, so a positive mean always means "a is better than b". Default `true`.
   */
  higherIsBetter?: boolean;
  /**
   * The smallest difference, in the metric's own unit, that counts as an effect (e.g. 1 accuracy point). ≥ 0;
   * default `0`. Carried into the result for {@link pairedVerdict}.
   */
  minEffect?: number;
  /** Confidence level of the interval, in (0, 1). Default `0.95`. */
  confidence?: number;
}

/** The result of {@link pairedComparison}. Statistics that need two pairs are `null` with one. */
export interface PairedComparison {
  /** Number of pairs. */
  n: number;
  /** Mean of the per-pair differences `a − b` (or `b − a` when lower is better): > 0 favours `a`. */
  mean: number;
  /** Sample standard deviation of the differences (n − 1 denominator). */
  sd: number | null;
  /** Standard error of the mean difference, sd / √n. */
  se: number | null;
  /** The t statistic, mean / se (±Infinity when every difference is the same non-zero value; 0 when all are 0). */
  t: number | null;
  /** Degrees of freedom, n − 1. */
  df: number | null;
  /** Two-sided p-value of the paired t test against a zero mean difference. */
  p: number | null;
  /** Confidence interval of the mean difference, mean ± t_{(1+confidence)/2, df} · se. */
  ci: { lower: number; upper: number } | null;
  /** The t critical value used for the interval. */
  critical: number | null;
  confidence: number;
  minEffect: number;
  higherIsBetter: boolean;
}

function checkValues(values: ArrayLike<number>, path: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new KoraError<MetricsErrorCode>({
        code: "NON_FINITE",
        message: `${path}[${i}] must be a finite number, got ${String(v)}`,
        path: `${path}[${i}]`,
      });
    }
  }
}

/**
 * A paired comparison of two methods measured on the same seeds (pair `i` is `a[i]` and `b[i]`, both from seed
 * index `i`): the paired t test on the per-pair differences, taken in the claimed direction.
 *
 * Pairing removes what the seeds share (data subset, initialisation), so it is sharper than comparing two
 * means when the seeds move both methods together.
 *
 * @param a - Per-seed values of the method claimed to be better.
 * @param b - Per-seed values of the method claimed to be worse, in the same seed order.
 * @throws KoraError `SHAPE_MISMATCH` (lengths differ), `TOO_FEW_EXAMPLES` (no pair), `NON_FINITE`,
 *   `INVALID_ARGUMENT` (minEffect < 0, confidence outside (0, 1)).
 *
 * @example
 * ```ts
 * const c = pairedComparison([81, 83, 80], [78, 79, 78], { higherIsBetter: true, minEffect: 1 });
 * // c.mean = 3, c.df = 2, c.p ≈ 0.035, c.ci ≈ { lower: 0.52, upper: 5.48 }
 * ```
 */
export function pairedComparison(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  options: PairedComparisonOptions = {},
): PairedComparison {
  const higherIsBetter = options.higherIsBetter ?? true;
  const minEffect = options.minEffect ?? 0;
  const confidence = options.confidence ?? 0.95;
  if (typeof minEffect !== "number" || !Number.isFinite(minEffect) || minEffect < 0) {
    throw new KoraError<MetricsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `options.minEffect must be a finite number ≥ 0 (in the metric's unit), got ${String(minEffect)}`,
      path: "options.minEffect",
    });
  }
  if (typeof confidence !== "number" || !(confidence > 0 && confidence < 1)) {
    throw new KoraError<MetricsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `options.confidence must be strictly between 0 and 1, got ${String(confidence)}`,
      path: "options.confidence",
    });
  }
  if (a.length !== b.length) {
    throw new KoraError<MetricsErrorCode>({
      code: "SHAPE_MISMATCH",
      message: `a and b must hold one value per seed each (paired), got ${a.length} and ${b.length} values`,
      path: "b",
    });
  }
  if (a.length === 0) {
    throw new KoraError<MetricsErrorCode>({
      code: "TOO_FEW_EXAMPLES",
      message: "a paired comparison needs at least one pair",
      path: "a",
    });
  }
  checkValues(a, "a");
  checkValues(b, "b");
  const n = a.length;
  const sign = higherIsBetter ? 1 : -1;
  const d = Array.from({ length: n }, (_, i) => sign * ((a[i] as number) - (b[i] as number)));
  const mean = d.reduce((s, v) => s + v, 0) / n;
  const base = { n, mean, confidence, minEffect, higherIsBetter };
  if (n < 2) return { ...base, sd: null, se: null, t: null, df: null, p: null, ci: null, critical: null };
  const sd = Math.sqrt(d.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  const se = sd / Math.sqrt(n);
  const df = n - 1;
  let t: number;
  let p: number;
  if (se === 0) {
    // Every difference is the same: the interval is that point; a non-zero mean is as certain as it gets.
    t = mean === 0 ? 0 : mean > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    p = mean === 0 ? 1 : 0;
  } else {
    t = mean / se;
    p = Math.min(1, 2 * studentTCdf(-Math.abs(t), df));
  }
  const critical = studentTQuantile((1 + confidence) / 2, df);
  return {
    ...base,
    sd,
    se,
    t,
    df,
    p,
    ci: { lower: mean - critical * se, upper: mean + critical * se },
    critical,
  };
}
