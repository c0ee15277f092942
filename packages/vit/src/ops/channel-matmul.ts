import * as tf from "@tensorflow/tfjs";

type Save = (tensors: tf.Tensor[]) => void;

/** `depthwiseConv2d` as a batched matmul: `x: [M, K, C]`, `f: [K, C, N]` → `[M, C, N]` (see {@link channelMatMul}). */
function depthwiseProduct(x: tf.Tensor3D, f: tf.Tensor3D): tf.Tensor3D {
  const [m, k, c] = x.shape;
  const n = f.shape[2];
  const out = tf.depthwiseConv2d(
    tf.reshape(x, [1, m, k, c]) as tf.Tensor4D,
    tf.reshape(f, [1, k, c, n]) as tf.Tensor4D,
    1,
    "valid",
  );
  return tf.reshape(out, [m, c, n]) as tf.Tensor3D;
}

/**
 * A batched matmul with the batch ("channel") axis innermost: `out[i, c, j] = Σ_k x[i, k, c] · f[k, c, j]` for
 * `x: [M, K, C]`, `f: [K, C, N]`, `out: [M, C, N]` — i.e. `C` independent `[M, K] × [K, N]` products.
 *
 * It runs as a depthwise convolution (input `[1, M, K, C]`, filter `[1, K, C, N]`, channel multiplier `N`, valid
 * padding), which the wasm backend hands to XNNPACK's grouped-convolution GEMM kernels: 3–5× the rate of tfjs's
 * batched `matMul` on attention shapes (`C = batch·heads`, `M, N ≈ 65`, `K = 64`), whose wasm kernel for a batch
 * greater than one is a scalar loop. The gradient is two more such products (plus layout transposes), never
 * `matMul`'s transpose flags.
 */
export function channelMatMul(x: tf.Tensor3D, f: tf.Tensor3D): tf.Tensor3D {
  return product(x, f) as tf.Tensor3D;
}

const product = tf.customGrad(((x: tf.Tensor, f: tf.Tensor, save: Save) => {
  save([x, f]);
  return {
    value: depthwiseProduct(x as tf.Tensor3D, f as tf.Tensor3D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, sf] = saved as [tf.Tensor3D, tf.Tensor3D];
      const g = dy as tf.Tensor3D; // [M, C, N]
      // dX_c = dY_c · F_cᵀ: x' = dY as [M, N, C], f' = F as [N, C, K] → [M, C, K] → [M, K, C].
      const dx = tf.transpose(
        depthwiseProduct(tf.transpose(g, [0, 2, 1]), tf.transpose(sf, [2, 1, 0])),
        [0, 2, 1],
      );
      // dF_c = X_cᵀ · dY_c: x' = X as [K, M, C], f' = dY as [M, C, N] → [K, C, N], F's own layout.
      const df = depthwiseProduct(tf.transpose(sx, [1, 0, 2]), g);
      return [dx, df];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor, f: tf.Tensor) => tf.Tensor;
