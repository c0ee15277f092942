import * as tf from "@tensorflow/tfjs";

type Save = (tensors: tf.Tensor[]) => void;

/**
 * `a · b` for `a: [batch, n, k]`, `b: [batch, k, m]` with a gradient that transposes explicitly instead of using
 * `matMul`'s `transposeA`/`transposeB` flags, which tfjs's built-in gradient uses and which run far slower on the
 * wasm backend (the same reason `@kora/tfjs` has `linear`). Used for the attention scores and context.
 */
export function batchMatMul(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  return product(a, b) as tf.Tensor3D;
}

const product = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: Save) => {
  save([a, b]);
  return {
    value: tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor3D, tf.Tensor3D];
      const g = dy as tf.Tensor3D;
      return [tf.matMul(g, tf.transpose(sb, [0, 2, 1])), tf.matMul(tf.transpose(sa, [0, 2, 1]), g)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;
