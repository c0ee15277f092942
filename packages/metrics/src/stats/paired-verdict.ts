import { KoraError } from "../errors";
import type { MetricsErrorCode } from "../errors/kora-error";
import type { PairedComparison } from "./paired-comparison";

/** What a paired comparison says about a directional claim. */
export type Verdict = "reproduced" | "contradicted" | "inconclusive";

/** Options of {@link pairedVerdict}. */
export interface PairedVerdictOptions {
  /** The p-value to judge by, normally Holm-adjusted across the claims tested together ({@link holm}). Default: the comparison's own p. */
  p?: number;
  /** Significance level. Default `0.05`. */
  alpha?: number;
}

/** The result of {@link pairedVerdict}: the verdict and the reason in words. */
export interface PairedVerdict {
  verdict: Verdict;
  reason: string;
}

/**
 * Turns a paired comparison (differences in the claimed direction) into a verdict on the claim:
 *
 * - **reproduced** — p < α and the mean difference ≥ `minEffect`;
 * - **contradicted** — p < α in the opposite direction with |mean| ≥ `minEffect`, or the interval's upper bound
 *   is below `minEffect` (the claimed effect is excluded, even where a smaller difference in its direction is real);
 * - **inconclusive** — otherwise, and always with fewer than two pairs ("one seed").
 *
 * @throws KoraError `INVALID_ARGUMENT` (alpha outside (0, 1), p outside [0, 1]).
 *
 * @example
 * ```ts
 * const c = pairedComparison([81, 83, 80], [78, 79, 78], { minEffect: 1 });
 * pairedVerdict(c).verdict; // "reproduced" (p ≈ 0.035)
 * ```
 */
export function pairedVerdict(
  comparison: PairedComparison,
  options: PairedVerdictOptions = {},
): PairedVerdict {
  const alpha = options.alpha ?? 0.05;
  if (typeof alpha !== "number" || !(alpha > 0 && alpha < 1)) {
    throw new KoraError<MetricsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `options.alpha must be strictly between 0 and 1, got ${String(alpha)}`,
      path: "options.alpha",
    });
  }
  const { mean, minEffect, ci } = comparison;
  const p = options.p ?? comparison.p;
  if (p === null || ci === null)
    return { verdict: "inconclusive", reason: "one seed: no spread to test against" };
  if (typeof p !== "number" || !(p >= 0 && p <= 1)) {
    throw new KoraError<MetricsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `options.p must be a probability in [0, 1], got ${String(p)}`,
      path: "options.p",
    });
  }
  const significant = p < alpha;
  if (significant && mean > 0 && mean >= minEffect) {
    return {
      verdict: "reproduced",
      reason: `significant in the claimed direction and at least the minimum effect ${minEffect}`,
    };
  }
  if (significant && mean < 0 && -mean >= minEffect) {
    return {
      verdict: "contradicted",
      reason: `significant in the opposite direction by at least the minimum effect ${minEffect}`,
    };
  }
  if (ci.upper < minEffect) {
    return {
      verdict: "contradicted",
      reason: `the claimed effect is excluded: the interval's upper bound ${ci.upper.toPrecision(3)} is below the minimum effect ${minEffect}`,
    };
  }
  if (significant && mean > 0) {
    return {
      verdict: "inconclusive",
      reason: `significant, but the mean difference is below the minimum effect ${minEffect}`,
    };
  }
  return {
    verdict: "inconclusive",
    reason: `not significant (${options.p === undefined ? "" : "adjusted "}p ${p.toPrecision(2)} ≥ α = ${alpha}) and the interval still admits the minimum effect ${minEffect}`,
  };
}
