import type { Activation } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";

const SQRT_HALF = Math.SQRT1_2;

/**
 * Applies one of the activations an adapter spec may name. `gelu` is the exact-erf GELU
 * `0.5·x·(1 + erf(x/√2))` (PyTorch's default), built from `tf.erf` so it has gradients on every backend.
 */
export function applyActivation<T extends tf.Tensor>(x: T, activation: Activation): T {
  switch (activation) {
    case "gelu":
      return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, SQRT_HALF)), 1))) as T;
    case "relu":
      return tf.relu(x);
    case "silu":
      return tf.tidy(() => tf.mul(x, tf.sigmoid(x))) as T;
    case "tanh":
      return tf.tanh(x);
    case "identity":
      return x;
  }
}
