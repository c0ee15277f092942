import { assertMinRows, assertSameRows, type MatrixLike, toDense } from "../matrix";
import { frobeniusDot, normalise } from "./gram";
import { linearGramRepresentation, rbfGramRepresentation } from "./gram-representation";
import { crossProduct, debiasedProduct, featureRepresentation } from "./linear-features";
import { checkThreshold, type LinearCKAOptions, type RbfCKAOptions } from "./options";

/**
 * Linear centred kernel alignment (Kornblith et al. 2019) between two representations of the same examples.
 *
 * `CKA(X, Y) = ‖YᵀX‖²_F / (‖XᵀX‖_F ‖YᵀY‖_F)` on column-centred `X` (n × d₁) and `Y` (n × d₂). The
 * feature-space form is used when `n > d₁ + d₂` and the Gram form `⟨HKH, HLH⟩ / (‖HKH‖ ‖HLH‖)` otherwise
 * (same value, less work). With `debiased`, HSIC is replaced by its unbiased estimator, as in the
 * google-research reference. All arithmetic is float64; columns are centred in two passes.
 *
 * @param x - Representation A, rows = examples.
 * @param y - Representation B, same number of rows.
 * @returns A similarity in [0, 1] (the debiased estimate may be slightly negative).
 * @throws KoraError `SHAPE_MISMATCH`, `NON_FINITE`, `TOO_FEW_EXAMPLES` (n < 2, or n < 4 debiased),
 *   `CONSTANT_FEATURES`, `NON_POSITIVE_ESTIMATE`.
 * @see https://arxiv.org/abs/1905.00414
 */
export function linearCKA(x: MatrixLike, y: MatrixLike, options: LinearCKAOptions = {}): number {
  const debiased = options.debiased ?? false;
  const dx = toDense(x, "x");
  const dy = toDense(y, "y");
  assertSameRows([
    { rows: dx.rows, name: "x" },
    { rows: dy.rows, name: "y" },
  ]);
  assertMinRows(dx.rows, debiased ? 4 : 2, debiased ? "debiased CKA" : "CKA", "x");
  const n = dx.rows;
  if (n > dx.cols + dy.cols) {
    const fx = featureRepresentation(dx, "x");
    const fy = featureRepresentation(dy, "y");
    const xty = crossProduct(fx, fy);
    if (!debiased) return normalise(xty, fx.selfProduct, fy.selfProduct, "x", "y");
    return normalise(
      debiasedProduct(xty, fx, fy),
      debiasedProduct(fx.selfProduct, fx, fx),
      debiasedProduct(fy.selfProduct, fy, fy),
      "x",
      "y",
      fx.selfProduct,
      fy.selfProduct,
    );
  }
  const gx = linearGramRepresentation(dx, "x", debiased);
  const gy = linearGramRepresentation(dy, "y", debiased);
  return normalise(frobeniusDot(gx.gram, gy.gram), gx.self, gy.self, "x", "y", gx.scale, gy.scale);
}

/**
 * RBF-kernel CKA (Kornblith et al. 2019) with bandwidth σ = threshold · √median(D²), the median over all n²
 * squared distances (diagonal zeros included) as `gram_rbf` in the google-research reference.
 *
 * @param x - Representation A, rows = examples.
 * @param y - Representation B, same number of rows.
 * @throws KoraError `SHAPE_MISMATCH`, `NON_FINITE`, `INVALID_ARGUMENT` (threshold), `TOO_FEW_EXAMPLES`,
 *   `CONSTANT_FEATURES`, `ZERO_MEDIAN_DISTANCE`, `NON_POSITIVE_ESTIMATE`.
 * @see https://arxiv.org/abs/1905.00414
 */
export function rbfCKA(x: MatrixLike, y: MatrixLike, options: RbfCKAOptions = {}): number {
  const debiased = options.debiased ?? false;
  const threshold = checkThreshold(options.threshold ?? 1);
  const dx = toDense(x, "x");
  const dy = toDense(y, "y");
  assertSameRows([
    { rows: dx.rows, name: "x" },
    { rows: dy.rows, name: "y" },
  ]);
  assertMinRows(dx.rows, debiased ? 4 : 2, debiased ? "debiased CKA" : "CKA", "x");
  const gx = rbfGramRepresentation(dx, "x", threshold, debiased);
  const gy = rbfGramRepresentation(dy, "y", threshold, debiased);
  return normalise(frobeniusDot(gx.gram, gy.gram), gx.self, gy.self, "x", "y", gx.scale, gy.scale);
}
