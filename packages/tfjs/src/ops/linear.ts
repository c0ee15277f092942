import * as tf from "@tensorflow/tfjs";

type Save = (tensors: tf.Tensor[]) => void;
type Gradient = {
  value: tf.Tensor;
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
};

/** `tf.customGrad` with honest argument types (tfjs types every argument as `Tensor | GradSaveFunc`). */
function customGrad<A extends tf.Tensor[]>(
  f: (...args: [...A, Save]) => Gradient,
): (...args: A) => tf.Tensor {
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (
    ...args: A
  ) => tf.Tensor;
}

/**
 * The weight gradient `xᵀ·g` for `x: [n, in]`, `g: [n, out]`. XNNPACK's GEMM is slow when the product has few rows
 * (`[8, n]·[n, 192]`, LoRA's `B`, ran at ~3 GFLOP/s, 7× slower than `[192, n]·[n, 8]`), so when `in < out` it is
 * computed as `(gᵀ·x)ᵀ`: one more transpose of `g`, a fast GEMM, and a transpose of the small result.
 */
function weightGradient(x: tf.Tensor2D, g: tf.Tensor2D): tf.Tensor2D {
  if (x.shape[1] < g.shape[1]) return tf.transpose(tf.matMul(tf.transpose(g), x)) as tf.Tensor2D;
  return tf.matMul(tf.transpose(x), g);
}

function isFrozen(tensor: tf.Tensor): boolean {
  return tensor instanceof tf.Variable && !tensor.trainable;
}

/**
 * `y = x · W (+ b)` for `x: [n, in]`, `W: [in, out]` (tfjs kernel layout), `b: [out]`, with a gradient that
 * never uses `matMul`'s `transposeA`/`transposeB` flags: on the wasm backend those run ~10× slower than an explicit
 * `tf.transpose` followed by a plain `matMul`, and tfjs's built-in matMul gradient uses them.
 *
 * When `W` (and `b`) are frozen variables (`trainable === false`) they are closed over instead of being inputs of
 * the custom gradient, so no weight gradient is ever computed for a frozen backbone.
 */
export function linear(x: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor1D | null = null): tf.Tensor2D {
  const frozen = isFrozen(kernel) && (bias === null || isFrozen(bias));
  if (frozen) return frozenLinear(kernel, bias)(x) as tf.Tensor2D;
  if (bias === null) return trainableLinearNoBias(x, kernel) as tf.Tensor2D;
  return trainableLinear(x, kernel, bias) as tf.Tensor2D;
}

function frozenLinear(kernel: tf.Tensor2D, bias: tf.Tensor1D | null) {
  return customGrad<[tf.Tensor]>((x, save) => {
    save([]);
    const product = tf.matMul(x as tf.Tensor2D, kernel);
    return {
      value: bias === null ? product : tf.add(product, bias),
      gradFunc: (dy) => tf.matMul(dy as tf.Tensor2D, tf.transpose(kernel)),
    };
  });
}

const trainableLinear = customGrad<[tf.Tensor, tf.Tensor, tf.Tensor]>((x, kernel, bias, save) => {
  save([x, kernel]);
  return {
    value: tf.add(tf.matMul(x as tf.Tensor2D, kernel as tf.Tensor2D), bias),
    gradFunc: (dy, saved) => {
      const [xs, w] = saved as [tf.Tensor2D, tf.Tensor2D];
      const g = dy as tf.Tensor2D;
      return [tf.matMul(g, tf.transpose(w)), weightGradient(xs, g), tf.sum(g, 0)];
    },
  };
});

const trainableLinearNoBias = customGrad<[tf.Tensor, tf.Tensor]>((x, kernel, save) => {
  save([x, kernel]);
  return {
    value: tf.matMul(x as tf.Tensor2D, kernel as tf.Tensor2D),
    gradFunc: (dy, saved) => {
      const [xs, w] = saved as [tf.Tensor2D, tf.Tensor2D];
      const g = dy as tf.Tensor2D;
      return [tf.matMul(g, tf.transpose(w)), weightGradient(xs, g)];
    },
  };
});
