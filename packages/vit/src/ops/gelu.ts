import * as tf from "@tensorflow/tfjs";

// Abramowitz & Stegun 7.1.26: erf(z) = 1 − (a₁t + a₂t² + a₃t³ + a₄t⁴ + a₅t⁵)·e^{−z²}, t = 1/(1 + p·z), z ≥ 0,
// absolute error ≤ 1.5e-7 (the algorithm tfjs's own cpu `erf` kernel uses).
const P = 0.3275911;
const A1 = 0.254829592;
const A2 = -0.284496736;
const A3 = 1.421413741;
const A4 = -1.453152027;
const A5 = 1.061405429;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * `e^{−x²/2}` from two logistic sigmoids: with `u = x²/2 ≥ 0`, `σ(−u)/σ(u) = (1 + e^{−u})/(1 + e^{u}) = e^{−u}`.
 * On wasm `tf.sigmoid` is XNNPACK's vectorised (and threaded) kernel while `tf.exp` is a scalar loop ~9× slower.
 * Both sigmoids are accurate to a few ulp relative for every u, so the quotient is too; it underflows to 0 where
 * `e^{−u}` does.
 */
function gaussian(x: tf.Tensor): tf.Tensor {
  const u = tf.mul(tf.square(x), 0.5);
  return tf.div(tf.sigmoid(tf.neg(u)), tf.sigmoid(u));
}

/**
 * The standard normal CDF `Φ(x) = ½(1 + erf(x/√2))` and `e^{−x²/2}`. On wasm `Φ` is A&S 7.1.26 written in
 * elementwise ops XNNPACK vectorises (`|Φ − Φ_exact| ≤ 7.5e-8`); elsewhere it is `tf.erf`.
 */
function normal(x: tf.Tensor): { cdf: tf.Tensor; density: tf.Tensor } {
  const e = gaussian(x);
  if (tf.getBackend() !== "wasm") {
    return { cdf: tf.mul(tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1), 0.5), density: e };
  }
  const t = tf.reciprocal(tf.add(tf.mul(tf.abs(x), P * Math.SQRT1_2), 1));
  let poly = tf.add(tf.mul(t, A5), A4);
  for (const a of [A3, A2, A1]) poly = tf.add(tf.mul(poly, t), a);
  // tail = ½·(1 − erf(|x|/√2)) = Φ(−|x|); Φ(x) = tail for x ≤ 0, 1 − tail for x > 0 (at 0 both are ½):
  // Φ = tail + step(x)·(1 − 2·tail) — `tf.step` is vectorised on wasm, `tf.where`/`greaterEqual` are not.
  const tail = tf.mul(tf.mul(poly, t), tf.mul(e, 0.5));
  const cdf = tf.add(tail, tf.mul(tf.step(x), tf.sub(1, tf.mul(tail, 2))));
  return { cdf, density: e };
}

const geluWithGradient = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const { cdf, density } = normal(x);
  save([x, cdf, density]);
  return {
    value: tf.mul(x, cdf),
    // d/dx x·Φ(x) = Φ(x) + x·φ(x), φ(x) = e^{−x²/2}/√(2π).
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, phi, e] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      return tf.mul(dy, tf.add(phi, tf.mul(xs, tf.mul(e, INV_SQRT_2PI))));
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]);

/**
 * The exact GELU of PyTorch's `nn.GELU()` / Hugging Face's `"gelu"`: `x · Φ(x) = 0.5 · x · (1 + erf(x / √2))` (not
 * the tanh approximation), with a hand-written gradient `Φ(x) + x·φ(x)` that keeps `x`, `Φ(x)` and `e^{−x²/2}`
 * (computed for `Φ` anyway) for the backward pass; tfjs's autodiff of the formula kept four `[n, 4·D]` tensors and
 * ran `exp` again. On wasm, `erf` and `exp` — scalar loops there, 12 % of a ViT training step — are replaced by
 * A&S 7.1.26 and a sigmoid quotient, both within 1.5e-7 of the exact function (tested against a float64 reference).
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  return geluWithGradient(x);
}
