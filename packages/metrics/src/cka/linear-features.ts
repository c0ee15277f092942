import { KoraError } from "../errors";
import type { MetricsErrorCode } from "../errors/kora-error";
import { type Panels, packPanels, panelProduct } from "../linalg";
import { centerColumns, type DenseMatrix } from "../matrix";
import { frobeniusDot } from "./gram";

/**
 * A column-centred representation packed for feature-space linear CKA (`‖YᵀX‖²_F`). @internal
 */
export interface FeatureRepresentation {
  /** Examples. */
  n: number;
  /** Packed centred columns. */
  panels: Panels;
  /** `Σ_f x_if²` per example (for the debiased estimator). */
  rowSquares: Float64Array;
  /** `Σ_i rowSquares_i = ‖X‖²_F`. */
  squaredNorm: number;
  /** `‖XᵀX‖²_F`, the (biased, unnormalised) self-similarity. */
  selfProduct: number;
}

/** Throws CONSTANT_FEATURES for a representation whose rows are all identical. @internal */
export function constantFeatures(name: string): KoraError {
  return new KoraError<MetricsErrorCode>({
    code: "CONSTANT_FEATURES",
    message: `${name} is constant (all rows identical, zero variance), so CKA is 0/0`,
    path: name,
  });
}

/** Centres (in place), packs and measures a representation. @internal */
export function featureRepresentation(x: DenseMatrix, name: string): FeatureRepresentation {
  if (centerColumns(x)) throw constantFeatures(name);
  const { rows: n, cols: d, data } = x;
  const rowSquares = new Float64Array(n);
  let squaredNorm = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    const off = i * d;
    for (let f = 0; f < d; f++) s += data[off + f]! * data[off + f]!;
    rowSquares[i] = s;
    squaredNorm += s;
  }
  const panels = packPanels(data, d, n, 1, d);
  const gram = panelProduct(panels, panels, true);
  return { n, panels, rowSquares, squaredNorm, selfProduct: frobeniusDot(gram, gram) };
}

/** `‖YᵀX‖²_F` for two feature representations with the same examples. @internal */
export function crossProduct(x: FeatureRepresentation, y: FeatureRepresentation): number {
  const product = panelProduct(x.panels, y.panels, false);
  return frobeniusDot(product, product);
}

/**
 * Debiased dot-product similarity (the google-research `_debiased_dot_product_similarity_helper`, derived from
 * the unbiased HSIC estimator of Song et al. 2012): `xty − n/(n−2)·⟨r_x, r_y⟩ + ‖X‖²‖Y‖²/((n−1)(n−2))`.
 * @internal
 */
export function debiasedProduct(xty: number, x: FeatureRepresentation, y: FeatureRepresentation): number {
  const n = x.n;
  return (
    xty -
    (n / (n - 2)) * frobeniusDot(x.rowSquares, y.rowSquares) +
    (x.squaredNorm * y.squaredNorm) / ((n - 1) * (n - 2))
  );
}
