import * as tf from "@tensorflow/tfjs";

/**
 * The exact GELU of PyTorch's `nn.GELU()` / Hugging Face's `"gelu"`: `0.5 · x · (1 + erf(x / √2))` (not the tanh
 * approximation). `tf.erf` runs on the cpu, wasm and webgl backends and its gradient (`2/√π · e^{−x²}`) uses only
 * elementwise kernels, so this trains on wasm.
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)));
}
