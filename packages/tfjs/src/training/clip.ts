import * as tf from "@tensorflow/tfjs";

/**
 * The global L2 norm `√(Σ_tensors Σ_i g_i²)` of a set of tensors, as a float32 scalar tensor (NaN or Inf when any
 * element is non-finite). The caller owns the result.
 */
export function globalNorm(tensors: readonly tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => {
    if (tensors.length === 0) return tf.scalar(0);
    return tf.sqrt(tf.addN(tensors.map((t) => tf.sum(tf.square(tf.cast(t, "float32")))))) as tf.Scalar;
  });
}

/** Result of {@link clipByGlobalNorm}. */
export interface ClippedGradients {
  /** The (possibly scaled) tensors, in input order; new tensors the caller owns. */
  tensors: tf.Tensor[];
  /** The global norm before clipping. */
  norm: number;
  /** The factor the tensors were multiplied by (1 when the norm was within `maxNorm`). */
  scale: number;
}

/**
 * The factor PyTorch's `clip_grad_norm_` multiplies every gradient by: `min(1, maxNorm / (norm + 1e-6))`.
 */
export function clipScale(norm: number, maxNorm: number): number {
  return Math.min(1, maxNorm / (norm + 1e-6));
}

/**
 * Global-norm gradient clipping as PyTorch's `torch.nn.utils.clip_grad_norm_`: when the global norm exceeds
 * `maxNorm`, every tensor is multiplied by `maxNorm / (norm + 1e-6)`. Reads the norm back (one sync).
 */
export async function clipByGlobalNorm(
  tensors: readonly tf.Tensor[],
  maxNorm: number,
): Promise<ClippedGradients> {
  const normTensor = globalNorm(tensors);
  const norm = (await normTensor.data())[0] as number;
  normTensor.dispose();
  const scale = clipScale(norm, maxNorm);
  return {
    tensors: tensors.map((t) => (scale < 1 ? tf.mul(t, scale) : tf.clone(t))),
    norm,
    scale,
  };
}
