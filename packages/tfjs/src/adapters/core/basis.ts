import {
  type Activation,
  type BSplineBasis,
  bsplineKnots,
  type CompositionBasis,
  type RbfBasis,
  rbfCentres,
} from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import { applyActivation } from "./activation";

/** The learnable basis of one block, tfjs layout. */
export interface BasisWeights {
  /** `basis.coefficients` transposed: `[K, h]` (the file's `[h, K]`). */
  coefficients: tf.Tensor2D;
  /** `basis.base` `[h]` (the SiLU weight of a B-spline basis with `base: "silu"`), otherwise `null`. */
  base: tf.Tensor1D | null;
}

/**
 * The `[n, h, G]` Gaussian bumps `exp(−((z − μ_k)/σ)²)` of the pre-activations `z: [n, h]`.
 */
function rbfFeatures(z: tf.Tensor2D, basis: RbfBasis): tf.Tensor3D {
  const { centres, sigma } = rbfCentres(basis);
  const offsets = tf.sub(tf.expandDims(z, 2), tf.tensor1d(centres));
  return tf.exp(tf.neg(tf.square(tf.div(offsets, sigma)))) as tf.Tensor3D;
}

/**
 * The `[n, h, G + order]` B-splines of `z: [n, h]` by the Cox–de Boor recursion on the uniform extended grid. In
 * grid units `u = (z − t₀)/step` the knots are the integers, so `B_{i,0} = [i < u ≤ i + 1]` and
 * `B_{i,p} = ((u − i)·B_{i,p−1} + (i + p + 1 − u)·B_{i+1,p−1}) / p`. The indicators come from `tf.step`, whose
 * gradient is 0, so the gradient with respect to z flows only through the linear factors, which is the spline's
 * derivative almost everywhere.
 */
function bsplineFeatures(z: tf.Tensor2D, basis: BSplineBasis): tf.Tensor3D {
  const { knots, step } = bsplineKnots(basis);
  const intervals = knots.length - 1;
  const u = tf.expandDims(tf.div(tf.sub(z, knots[0] as number), step), 2); // [n, h, 1]
  const index = (count: number) => tf.range(0, count, 1, "float32");
  const from = tf.sub(u, index(intervals)); // u − i
  let features = tf.sub(tf.step(from), tf.step(tf.sub(from, 1))) as tf.Tensor3D;
  for (let p = 1; p <= basis.order; p++) {
    const count = intervals - p;
    const i = index(count);
    const left = tf.mul(tf.sub(u, i), tf.slice(features, [0, 0, 0], [-1, -1, count]));
    const right = tf.mul(tf.sub(tf.add(i, p + 1), u), tf.slice(features, [0, 0, 1], [-1, -1, count]));
    features = tf.div(tf.add(left, right), p) as tf.Tensor3D;
  }
  return features;
}

/**
 * The function between the two layers of KoRA's mlp composition, applied to the pre-activations `z: [n, h]`:
 * the fixed `activation` when the basis is `"fixed"` (weights ignored), otherwise per unit j
 * `φ_j(z) = Σ_k c_{k,j}·b_k(z)` (+ `w_j·silu(z)` for a B-spline basis with a base), see `@kora/spec`'s
 * `RbfBasis` and `BSplineBasis`.
 */
export function applyBasis(
  z: tf.Tensor2D,
  basis: CompositionBasis,
  activation: Activation,
  weights: BasisWeights | null,
): tf.Tensor2D {
  if (basis.kind === "fixed") return applyActivation(z, activation);
  if (weights === null) throw new Error(`KoRA ${basis.kind} basis weights missing`);
  return tf.tidy(() => {
    const features = basis.kind === "rbf" ? rbfFeatures(z, basis) : bsplineFeatures(z, basis);
    // Σ_k features[n, j, k]·c[k, j]: a per-unit weighted sum over the last axis.
    const phi = tf.sum(tf.mul(features, tf.transpose(weights.coefficients)), 2) as tf.Tensor2D;
    if (weights.base === null) return phi;
    return tf.add(phi, tf.mul(applyActivation(z, "silu"), weights.base)) as tf.Tensor2D;
  });
}
