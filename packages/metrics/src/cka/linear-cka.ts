import { productEngine } from "../linalg";
import {
  assertMinRows,
  assertSameRows,
  type MatrixLike,
  type SourceMatrix,
  toDense,
  toSource,
} from "../matrix";
import { ckaFromGram, featurePlan } from "./feature-gram";
import { frobeniusDot, normalise } from "./gram";
import { linearGramRepresentation, rbfGramRepresentation } from "./gram-representation";
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
  const sx = toSource(x, "x");
  const sy = toSource(y, "y");
  checkPair(sx, sy, debiased);
  if (usesFeatureSpace(sx, sy)) {
    // One stacked product [X Y]ᵀ[X Y] (upper blocks) gives XᵀX, YᵀY and XᵀY in a single pass over the panels,
    // packed (centred, widened) straight from the caller's arrays into the kernel's memory.
    const plan = featurePlan(sx, sy);
    const ldc = plan.parts.reduce((sum, part) => sum + 4 * Math.ceil(part.cols / 4), 0);
    return ckaFromGram(
      plan,
      productEngine().columnsGram(plan.parts, 0, plan.n, 0, scratch(ldc * ldc)),
      debiased,
    );
  }
  const gx = linearGramRepresentation(toDense(x, "x"), "x", debiased);
  const gy = linearGramRepresentation(toDense(y, "y"), "y", debiased);
  return normalise(frobeniusDot(gx.gram, gy.gram), gx.self, gy.self, "x", "y", gx.scale, gy.scale);
}

let scratchBuffer = new Float64Array(0);

/** A reused result buffer: allocating a fresh one of tens of MiB per call costs more than the copy into it. */
function scratch(length: number): Float64Array {
  if (scratchBuffer.length < length) scratchBuffer = new Float64Array(length);
  return scratchBuffer;
}

/** Row counts equal and enough examples for the estimator (SHAPE_MISMATCH, TOO_FEW_EXAMPLES). @internal */
export function checkPair(x: SourceMatrix, y: SourceMatrix, debiased: boolean): void {
  assertSameRows([
    { rows: x.rows, name: "x" },
    { rows: y.rows, name: "y" },
  ]);
  assertMinRows(x.rows, debiased ? 4 : 2, debiased ? "debiased CKA" : "CKA", "x");
}

/** The feature-space form is cheaper when there are more examples than features in total. @internal */
export function usesFeatureSpace(x: SourceMatrix, y: SourceMatrix): boolean {
  return x.rows > x.cols + y.cols;
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
