import * as tf from "@tensorflow/tfjs";

const layerNormWithGradient = (epsilon: number) =>
  tf.customGrad(((x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, save: tf.GradSaveFunc) => {
    const axis = x.rank - 1;
    const centred = tf.sub(x, tf.mean(x, axis, true));
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(centred), axis, true), epsilon));
    const normalised = tf.mul(centred, rstd);
    save([normalised, rstd, gamma]);
    return {
      value: tf.add(tf.mul(normalised, gamma), beta),
      // With x̂ = (x − μ)·r, r = 1/√(σ² + ε), g = dy·γ: dx = r·(g − mean(g) − x̂·mean(g·x̂)) (PyTorch's formula),
      // dγ = Σ dy·x̂ and dβ = Σ dy over every axis but the last.
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xHat, r, g0] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const g = tf.mul(dy, g0);
        const centredGrad = tf.sub(
          tf.sub(g, tf.mean(g, axis, true)),
          tf.mul(xHat, tf.mean(tf.mul(g, xHat), axis, true)),
        );
        const width = g0.shape[0] as number;
        const rows = (flat: tf.Tensor) => tf.reshape(flat, [-1, width]);
        return [tf.mul(centredGrad, r), tf.sum(rows(tf.mul(dy, xHat)), 0), tf.sum(rows(dy), 0)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);

const byEpsilon = new Map<number, ReturnType<typeof layerNormWithGradient>>();

/**
 * LayerNorm over the last axis, computed in float32 exactly as PyTorch's `nn.LayerNorm`: biased variance of the
 * centred input, `(x − μ) / √(σ² + eps) · γ + β`. Written out (not `tf.layers.layerNormalization`, whose epsilon
 * defaults to `1e-3`) so the epsilon always comes from the model's config. The gradient is PyTorch's closed form,
 * keeping only `x̂` and `1/√(σ² + eps)` for the backward pass (tfjs's autodiff of the formula kept five tensors
 * and ran ~20 kernels, several of them broadcasts the wasm backend runs slowly).
 */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number): tf.Tensor {
  let op = byEpsilon.get(epsilon);
  if (op === undefined) {
    op = layerNormWithGradient(epsilon);
    byEpsilon.set(epsilon, op);
  }
  return op(x, gamma, beta);
}
