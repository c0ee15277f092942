import { KoraError } from "../errors";
import type { MetricsErrorCode } from "../errors/kora-error";
import { packPanels, panelProduct } from "../linalg";
import type { DenseMatrix } from "../matrix";

/** Linear Gram matrix `X Xᵀ` (n × n, row-major) of a dense matrix, computed with the blocked kernel. @internal */
export function linearGram(x: DenseMatrix): Float64Array {
  const panels = packPanels(x.data, x.rows, x.cols, x.cols, 1);
  return panelProduct(panels, panels, true);
}

/**
 * Centres a symmetric Gram matrix in place, as `center_gram` of the google-research reference.
 *
 * Biased: `K ← H K H` with `H = I − 11ᵀ/n`. Unbiased (Székely & Rizzo 2014; used for debiased CKA and the
 * unbiased HSIC₁ of Song et al. 2012): the diagonal is zeroed, column sums are divided by `n − 2`, corrected
 * by `sum / (2(n − 1))`, subtracted from rows and columns, and the diagonal zeroed again. @internal
 */
export function centerGram(k: Float64Array, n: number, unbiased: boolean): void {
  const means = new Float64Array(n);
  if (unbiased) {
    for (let i = 0; i < n; i++) k[i * n + i] = 0;
  }
  for (let i = 0; i < n; i++) {
    const off = i * n;
    for (let j = 0; j < n; j++) means[j]! += k[off + j]!;
  }
  let total = 0;
  if (unbiased) {
    for (let j = 0; j < n; j++) {
      means[j]! /= n - 2;
      total += means[j]!;
    }
    const shift = total / (2 * (n - 1));
    for (let j = 0; j < n; j++) means[j]! -= shift;
  } else {
    for (let j = 0; j < n; j++) {
      means[j]! /= n;
      total += means[j]!;
    }
    const shift = total / n / 2;
    for (let j = 0; j < n; j++) means[j]! -= shift;
  }
  for (let i = 0; i < n; i++) {
    const off = i * n;
    const mi = means[i]!;
    for (let j = 0; j < n; j++) k[off + j]! -= mi + means[j]!;
  }
  if (unbiased) {
    for (let i = 0; i < n; i++) k[i * n + i] = 0;
  }
}

/** Frobenius inner product `Σ a_ij b_ij` in float64. @internal */
export function frobeniusDot(a: Float64Array, b: Float64Array): number {
  let s0 = 0;
  let s1 = 0;
  const len = a.length;
  let i = 0;
  for (; i + 1 < len; i += 2) {
    s0 += a[i]! * b[i]!;
    s1 += a[i + 1]! * b[i + 1]!;
  }
  if (i < len) s0 += a[i]! * b[i]!;
  return s0 + s1;
}

/** Self-similarities at most this fraction of their scale are treated as 0 (rounding noise). @internal */
export const RELATIVE_ZERO = 1e-12;

/**
 * CKA from two self-similarities and a cross-similarity; throws NON_POSITIVE_ESTIMATE when a self-similarity
 * is not positive, or only rounding noise (≤ 1e-12 of `scale`, its size before unbiased centring). @internal
 */
export function normalise(
  cross: number,
  selfX: number,
  selfY: number,
  nameX: string,
  nameY: string,
  scaleX = 0,
  scaleY = 0,
): number {
  for (const [value, name, scale] of [
    [selfX, nameX, scaleX],
    [selfY, nameY, scaleY],
  ] as const) {
    if (!(value > RELATIVE_ZERO * scale)) {
      throw new KoraError<MetricsErrorCode>({
        code: "NON_POSITIVE_ESTIMATE",
        message: `the (unbiased) self-similarity HSIC(${name}, ${name}) is ${value} (zero up to rounding or negative), so CKA's normaliser is undefined; use more examples or the biased estimator`,
        path: name,
      });
    }
  }
  return cross / Math.sqrt(selfX * selfY);
}

/**
 * Median of all n² squared distances of a symmetric matrix with a zero diagonal, given the sorted strict
 * upper triangle (each off-diagonal value occurs twice in the full matrix, the n diagonal zeros first). Matches
 * `np.median(sq_distances)` over the full matrix. @internal
 */
export function medianOfFullSquare(sortedUpper: Float64Array, n: number): number {
  const total = n * n;
  const at = (index: number): number => (index < n ? 0 : sortedUpper[Math.floor((index - n) / 2)]!);
  return total % 2 === 1 ? at((total - 1) / 2) : (at(total / 2 - 1) + at(total / 2)) / 2;
}
