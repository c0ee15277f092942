import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { linear } from "./linear";

function seeded(shape: number[], seed: number): tf.Tensor {
  return tf.randomUniform(shape, -1, 1, "float32", seed);
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);
}

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("linear (custom gradient without transpose flags)", () => {
  // in > out takes xᵀ·g for the weight gradient, in < out takes (gᵀ·x)ᵀ (faster on wasm for a narrow x).
  it.each([
    [5, 7, 3],
    [5, 3, 7],
  ])(
    "forward and all gradients equal tfjs autograd of matMul + add (n %i, in %i, out %i)",
    (n, inDim, outDim) => {
      const x = seeded([n, inDim], 1) as tf.Tensor2D;
      const w = seeded([inDim, outDim], 2) as tf.Tensor2D;
      const b = seeded([outDim], 3) as tf.Tensor1D;
      const dy = seeded([n, outDim], 4);
      const reference = tf.grads((xs, ws, bs) => tf.add(tf.matMul(xs as tf.Tensor2D, ws as tf.Tensor2D), bs));
      const ours = tf.grads((xs, ws, bs) => linear(xs as tf.Tensor2D, ws as tf.Tensor2D, bs as tf.Tensor1D));
      const expected = reference([x, w, b], dy);
      const actual = ours([x, w, b], dy);
      expect(maxAbsDiff(linear(x, w, b), tf.add(tf.matMul(x, w), b))).toBeLessThan(1e-6);
      for (let i = 0; i < 3; i++)
        expect(maxAbsDiff(actual[i] as tf.Tensor, expected[i] as tf.Tensor)).toBeLessThan(1e-5);
      const noBias = tf.grads((xs, ws) => linear(xs as tf.Tensor2D, ws as tf.Tensor2D));
      const refNoBias = tf.grads((xs, ws) => tf.matMul(xs as tf.Tensor2D, ws as tf.Tensor2D));
      const [gx, gw] = noBias([x, w], dy);
      const [rx, rw] = refNoBias([x, w], dy);
      expect(maxAbsDiff(gx as tf.Tensor, rx as tf.Tensor)).toBeLessThan(1e-5);
      expect(maxAbsDiff(gw as tf.Tensor, rw as tf.Tensor)).toBeLessThan(1e-5);
    },
  );

  it("frozen weights get no gradient while the input gradient stays exact", () => {
    const w = tf.variable(seeded([4, 6], 5), false);
    const b = tf.variable(seeded([6], 6), false);
    const x = seeded([3, 4], 7) as tf.Tensor2D;
    const upstream = tf.variable(seeded([6, 2], 8), true);
    const { grads } = tf.variableGrads(
      () =>
        tf.sum(
          tf.matMul(linear(tf.tanh(x), w as unknown as tf.Tensor2D, b as unknown as tf.Tensor1D), upstream),
        ) as tf.Scalar,
    );
    expect(Object.keys(grads)).toEqual([upstream.name]);
    const dx = tf.grad((xs) =>
      tf.sum(linear(xs as tf.Tensor2D, w as unknown as tf.Tensor2D, b as unknown as tf.Tensor1D)),
    )(x);
    const ref = tf.grad((xs) => tf.sum(tf.add(tf.matMul(xs as tf.Tensor2D, w), b)))(x);
    expect(maxAbsDiff(dx, ref)).toBeLessThan(1e-5);
  });

  it("leaks no tensors", () => {
    const x = seeded([3, 4], 9) as tf.Tensor2D;
    const w = tf.variable(seeded([4, 2], 10), true);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) {
      const { value, grads } = tf.variableGrads(
        () => tf.sum(linear(x, w as unknown as tf.Tensor2D)) as tf.Scalar,
      );
      value.dispose();
      tf.dispose(grads);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
