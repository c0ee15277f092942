import { KoraError } from "../errors";
import type { MetricsErrorCode } from "../errors/kora-error";
import { centerColumns, type DenseMatrix } from "../matrix";
import { centerGram, frobeniusDot, linearGram, medianOfFullSquare } from "./gram";
import { constantFeatures } from "./linear-features";

/** A centred Gram matrix and its squared Frobenius norm. @internal */
export interface GramRepresentation {
  n: number;
  gram: Float64Array;
  self: number;
  /** Squared Frobenius norm before centring (the scale against which `self` counts as zero). */
  scale: number;
}

function finish(k: Float64Array, n: number, debiased: boolean): GramRepresentation {
  const scale = frobeniusDot(k, k);
  centerGram(k, n, debiased);
  return { n, gram: k, self: frobeniusDot(k, k), scale };
}

/** Linear-kernel Gram `XXᵀ` of the column-centred representation, then centred (biased or unbiased). @internal */
export function linearGramRepresentation(
  x: DenseMatrix,
  name: string,
  debiased: boolean,
): GramRepresentation {
  if (centerColumns(x)) throw constantFeatures(name);
  return finish(linearGram(x), x.rows, debiased);
}

/**
 * RBF Gram matrix as `gram_rbf(x, threshold)` of the google-research reference:
 * `K_ij = exp(−D²_ij / (2 · threshold² · median(D²)))`, the median taken over all n² entries of `D²`
 * (diagonal zeros included); negative `D²` from rounding are clamped to 0. Distances are computed from the
 * column-centred data (they are translation invariant) so large offsets do not cost precision. @internal
 */
export function rbfGramRepresentation(
  x: DenseMatrix,
  name: string,
  threshold: number,
  debiased: boolean,
): GramRepresentation {
  if (centerColumns(x)) throw constantFeatures(name);
  const n = x.rows;
  const k = linearGram(x);
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) norms[i] = k[i * n + i]!;
  const upper = new Float64Array((n * (n - 1)) / 2);
  let u = 0;
  for (let i = 0; i < n; i++) {
    const off = i * n;
    k[off + i] = 0;
    for (let j = i + 1; j < n; j++) {
      const d2 = Math.max(0, norms[i]! + norms[j]! - 2 * k[off + j]!);
      k[off + j] = d2;
      k[j * n + i] = d2;
      upper[u++] = d2;
    }
  }
  upper.sort();
  const median = medianOfFullSquare(upper, n);
  if (!(median > 0)) {
    throw new KoraError<MetricsErrorCode>({
      code: "ZERO_MEDIAN_DISTANCE",
      message: `the median squared distance between examples of ${name} is 0 (most examples coincide), so the RBF bandwidth would be 0`,
      path: name,
    });
  }
  const scale = -1 / (2 * threshold * threshold * median);
  for (let i = 0; i < k.length; i++) k[i] = Math.exp(k[i]! * scale);
  return finish(k, n, debiased);
}
