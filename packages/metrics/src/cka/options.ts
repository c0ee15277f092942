import { KoraError } from "../errors";
import type { MetricsErrorCode } from "../errors/kora-error";

/** Options of {@link linearCKA}. */
export interface LinearCKAOptions {
  /**
   * Use the debiased estimator (unbiased HSIC of Song et al. 2012 in numerator and normaliser), as
   * `debiased=True` in the google-research reference. Needs at least 4 examples. Default `false`.
   */
  debiased?: boolean;
}

/** Options of {@link rbfCKA}. */
export interface RbfCKAOptions {
  /**
   * Bandwidth as a fraction of the median distance: σ = threshold · √median(D²) (Kornblith et al. 2019).
   * Must be positive. Default `1`.
   */
  threshold?: number;
  /** Use the debiased estimator (see {@link LinearCKAOptions.debiased}). Default `false`. */
  debiased?: boolean;
}

/** Options of {@link ckaMatrix}. */
export interface CKAMatrixOptions {
  /** Kernel: `"linear"` (default) or `"rbf"`. */
  kernel?: "linear" | "rbf";
  /** RBF bandwidth fraction, see {@link RbfCKAOptions.threshold}. Ignored for the linear kernel. Default `1`. */
  threshold?: number;
  /** Use the debiased estimator. Default `false`. */
  debiased?: boolean;
}

/** Validates an RBF threshold. @internal */
export function checkThreshold(threshold: number): number {
  if (typeof threshold !== "number" || !(threshold > 0) || !Number.isFinite(threshold)) {
    throw new KoraError<MetricsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `options.threshold must be a positive finite number, got ${threshold}`,
      path: "options.threshold",
    });
  }
  return threshold;
}
