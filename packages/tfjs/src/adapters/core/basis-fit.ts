import { type Activation, type BSplineBasis, bsplineKnots, type RbfBasis, rbfCentres } from "@kora/spec";

/** erf by Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7): ample for a fit stored in float32. */
function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const ax = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * ax);
  const poly =
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t;
  return sign * (1 - poly * Math.exp(-ax * ax));
}

/** One of the composition activations in float64 (`gelu` is the exact-erf GELU, as `applyActivation`). */
export function activation64(activation: Activation, z: number): number {
  switch (activation) {
    case "gelu":
      return 0.5 * z * (1 + erf(z / Math.SQRT2));
    case "relu":
      return Math.max(z, 0);
    case "silu":
      return z / (1 + Math.exp(-z));
    case "tanh":
      return Math.tanh(z);
    case "identity":
      return z;
  }
}

/**
 * The basis functions of a learnable basis at `z`, in float64 (`G` Gaussians, or `G + order` B-splines with the
 * same half-open convention `[t_i < z ≤ t_{i+1}]` as the tfjs evaluation). The independent reference of the
 * tests and the design matrix of {@link fitBasisCoefficients}.
 */
export function basisFunctions64(basis: RbfBasis | BSplineBasis, z: number): number[] {
  if (basis.kind === "rbf") {
    const { centres, sigma } = rbfCentres(basis);
    return centres.map((mu) => Math.exp(-(((z - mu) / sigma) ** 2)));
  }
  const { knots } = bsplineKnots(basis);
  let values: number[] = knots.slice(0, -1).map((t, i) => (t < z && z <= (knots[i + 1] as number) ? 1 : 0));
  for (let p = 1; p <= basis.order; p++) {
    values = values.slice(0, -1).map((b, i) => {
      const t = (k: number) => knots[k] as number;
      const left = ((z - t(i)) / (t(i + p) - t(i))) * b;
      const right = ((t(i + p + 1) - z) / (t(i + p + 1) - t(i + 1))) * (values[i + 1] as number);
      return left + right;
    });
  }
  return values;
}

/** Solves the symmetric positive definite system `a·x = b` (`a` row-major `k×k`) by Cholesky. */
function solveSpd(a: Float64Array, b: Float64Array, k: number): Float64Array {
  const l = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i * k + j] as number;
      for (let m = 0; m < j; m++) sum -= (l[i * k + m] as number) * (l[j * k + m] as number);
      l[i * k + j] = i === j ? Math.sqrt(sum) : sum / (l[j * k + j] as number);
    }
  }
  const y = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let sum = b[i] as number;
    for (let m = 0; m < i; m++) sum -= (l[i * k + m] as number) * (y[m] as number);
    y[i] = sum / (l[i * k + i] as number);
  }
  const x = new Float64Array(k);
  for (let i = k - 1; i >= 0; i--) {
    let sum = y[i] as number;
    for (let m = i + 1; m < k; m++) sum -= (l[m * k + i] as number) * (x[m] as number);
    x[i] = sum / (l[i * k + i] as number);
  }
  return x;
}

/**
 * The coefficients that make a learnable basis start as the composition's fixed activation: the least-squares
 * fit of `target(z)` by the basis functions on 64 evenly spaced samples per coefficient over the basis range,
 * with a ridge of 1e-8 of the Gram matrix's mean diagonal (Gaussians one spacing wide overlap strongly, and the
 * ridge keeps their coefficients of moderate size without a measurable loss of fit). `target` is the activation
 * for an RBF basis and the activation minus SiLU for a B-spline basis whose SiLU base starts at weight 1.
 */
export function fitBasisCoefficients(
  basis: RbfBasis | BSplineBasis,
  target: (z: number) => number,
): Float64Array {
  const [lo, hi] = basis.range;
  const k = basisFunctions64(basis, lo).length;
  const samples = 64 * k;
  const gram = new Float64Array(k * k);
  const rhs = new Float64Array(k);
  for (let s = 0; s < samples; s++) {
    const z = lo + ((hi - lo) * s) / (samples - 1);
    const row = basisFunctions64(basis, z);
    const f = target(z);
    for (let i = 0; i < k; i++) {
      const ri = row[i] as number;
      rhs[i] = (rhs[i] as number) + ri * f;
      for (let j = 0; j < k; j++) gram[i * k + j] = (gram[i * k + j] as number) + ri * (row[j] as number);
    }
  }
  let trace = 0;
  for (let i = 0; i < k; i++) trace += gram[i * k + i] as number;
  const ridge = (1e-8 * trace) / k;
  for (let i = 0; i < k; i++) gram[i * k + i] = (gram[i * k + i] as number) + ridge;
  return solveSpd(gram, rhs, k);
}
