import * as tf from "@tensorflow/tfjs";

/**
 * LayerNorm over the last axis, computed in float32 exactly as PyTorch's `nn.LayerNorm`: biased variance of the
 * centred input, `(x − μ) / √(σ² + eps) · γ + β`. Written out (not `tf.layers.layerNormalization`, whose epsilon
 * defaults to `1e-3`) so the epsilon always comes from the model's config.
 */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number): tf.Tensor {
  return tf.tidy(() => {
    const axis = x.rank - 1;
    const centred = tf.sub(x, tf.mean(x, axis, true));
    const variance = tf.mean(tf.square(centred), axis, true);
    const normalised = tf.mul(centred, tf.rsqrt(tf.add(variance, tf.scalar(epsilon))));
    return tf.add(tf.mul(normalised, gamma), beta);
  });
}
