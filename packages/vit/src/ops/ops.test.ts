import * as tf from "@tensorflow/tfjs";
import { afterAll, describe, expect, it } from "vitest";
import { useBackend } from "../test-support/fixtures";
import { batchMatMul } from "./batch-matmul";
import { channelMatMul } from "./channel-matmul";
import { gelu } from "./gelu";
import { layerNorm } from "./layer-norm";

/** erf in float64 by its Maclaurin series (converges fast for |x| ≤ 4), independent of tfjs's approximation. */
function erf64(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

const inputs = Array.from({ length: 41 }, (_, i) => -5 + i * 0.25);
/** A dense grid for the GELU accuracy bound, out to where e^{−x²/2} underflows in float32. */
const dense = [
  ...Array.from({ length: 2401 }, (_, i) => -12 + i * 0.01),
  -40,
  -20,
  20,
  40,
  0,
  -0,
  1e-8,
  -1e-8,
];

afterAll(async () => {
  await useBackend("cpu");
});

describe.each(["cpu", "wasm"] as const)("ops on %s", (backend) => {
  it("gelu is the exact erf GELU, with the exact gradient", async () => {
    await useBackend(backend);
    const x = tf.tensor1d(inputs);
    const y = gelu(x).dataSync();
    const dy = tf
      .grad((t) => tf.sum(gelu(t)))(x)
      .dataSync();
    inputs.forEach((v, i) => {
      expect(y[i]).toBeCloseTo(0.5 * v * (1 + erf64(v / Math.SQRT2)), 5);
      const pdf = Math.exp((-v * v) / 2) / Math.sqrt(2 * Math.PI);
      expect(dy[i]).toBeCloseTo(0.5 * (1 + erf64(v / Math.SQRT2)) + v * pdf, 5);
    });
    // The whole dense grid: value within 2e-7·max(1, |x|) and gradient (with a non-unit dy) within 1e-6 of float64.
    const xs = tf.tensor1d(dense);
    const weights = tf.tensor1d(dense.map((_, i) => 1 + (i % 7) / 7));
    const values = gelu(xs).dataSync();
    const grads = tf
      .grad((t) => tf.sum(tf.mul(gelu(t), weights)))(xs)
      .dataSync();
    let worstValue = 0;
    let worstGrad = 0;
    dense.forEach((v, i) => {
      const cdf = 0.5 * (1 + erf64(v / Math.SQRT2));
      const exactValue = Math.abs(v) > 6 ? Math.max(v, 0) : v * cdf;
      const exactCdf = Math.abs(v) > 6 ? (v > 0 ? 1 : 0) : cdf;
      const pdf = Math.exp((-v * v) / 2) / Math.sqrt(2 * Math.PI);
      const exactGrad = (1 + (i % 7) / 7) * (exactCdf + v * pdf);
      worstValue = Math.max(
        worstValue,
        Math.abs((values[i] as number) - exactValue) / Math.max(1, Math.abs(v)),
      );
      worstGrad = Math.max(worstGrad, Math.abs((grads[i] as number) - exactGrad));
    });
    expect(worstValue).toBeLessThan(2e-7);
    expect(worstGrad).toBeLessThan(1e-6);
    expect(Number.isFinite(values[dense.indexOf(-40)] as number)).toBe(true);
    tf.dispose([xs, weights]);
    // The tanh approximation is more than 5e-6 (the tolerance above) away somewhere on this grid: this is not it.
    const tanhApprox = (v: number) =>
      0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
    expect(Math.max(...inputs.map((v, i) => Math.abs((y[i] as number) - tanhApprox(v))))).toBeGreaterThan(
      5e-5,
    );
    x.dispose();
  });

  it("layerNorm uses the given epsilon (1e-12 differs from tfjs's 1e-3) and matches a float64 reference", async () => {
    await useBackend(backend);
    const rows = [
      [0.01, -0.02, 0.015, 0.0],
      [3, 1, -2, 7],
    ];
    const gamma = [1, 2, 0.5, -1];
    const beta = [0, 0.1, -0.1, 0.2];
    const out = tf.tidy(() =>
      layerNorm(tf.tensor2d(rows), tf.tensor1d(gamma), tf.tensor1d(beta), 1e-12).arraySync(),
    ) as number[][];
    rows.forEach((row, r) => {
      const mean = row.reduce((a, b) => a + b, 0) / row.length;
      const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / row.length;
      row.forEach((v, c) => {
        const expected =
          ((v - mean) / Math.sqrt(variance + 1e-12)) * (gamma[c] as number) + (beta[c] as number);
        expect(out[r]?.[c]).toBeCloseTo(expected, 4);
      });
    });
    // With tfjs's default epsilon the small-variance row would be shrunk (a visibly different result).
    const loose = tf.tidy(() =>
      layerNorm(tf.tensor2d(rows), tf.tensor1d(gamma), tf.tensor1d(beta), 1e-3).arraySync(),
    ) as number[][];
    expect(Math.abs((loose[0]?.[0] as number) - (out[0]?.[0] as number))).toBeGreaterThan(0.3);
  });

  it("layerNorm's hand-written gradient equals autodiff of the formula (x, γ and β; rank 2 and 3)", async () => {
    await useBackend(backend);
    const autodiff = (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => {
      const axis = x.rank - 1;
      const centred = tf.sub(x, tf.mean(x, axis, true));
      const variance = tf.mean(tf.square(centred), axis, true);
      return tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, 1e-6))), gamma), beta);
    };
    for (const shape of [
      [37, 24],
      [3, 5, 24],
    ]) {
      tf.tidy(() => {
        const x = tf.add(tf.mul(tf.randomNormal(shape, 0, 1, "float32", 1), 3), 0.5);
        const gamma = tf.randomNormal([24], 1, 0.5, "float32", 2);
        const beta = tf.randomNormal([24], 0, 0.5, "float32", 3);
        const weights = tf.randomNormal(shape, 0, 1, "float32", 4);
        const loss = (f: typeof autodiff) => (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
          tf.sum(tf.mul(f(a, b, c), weights));
        const ours = tf.grads(loss((a, b, c) => layerNorm(a, b as tf.Tensor1D, c as tf.Tensor1D, 1e-6)))([
          x,
          gamma,
          beta,
        ]);
        const reference = tf.grads(loss(autodiff))([x, gamma, beta]);
        expect(layerNorm(x, gamma as tf.Tensor1D, beta as tf.Tensor1D, 1e-6).shape).toEqual(shape);
        ours.forEach((grad, i) => {
          const expected = reference[i] as tf.Tensor;
          expect(grad.shape).toEqual(expected.shape);
          const scale = tf.max(tf.abs(expected)).dataSync()[0] as number;
          const error = tf.max(tf.abs(tf.sub(grad, expected))).dataSync()[0] as number;
          expect(error).toBeLessThan(2e-6 * Math.max(1, scale));
        });
      });
    }
  });

  it("batchMatMul's gradient equals tfjs's own matMul gradient", async () => {
    await useBackend(backend);
    tf.tidy(() => {
      const a = tf.randomUniform([3, 4, 5], -1, 1, "float32", 1);
      const b = tf.randomUniform([3, 5, 2], -1, 1, "float32", 2);
      const dy = tf.randomUniform([3, 4, 2], -1, 1, "float32", 3);
      const ours = tf.grads((x, y) => batchMatMul(x as tf.Tensor3D, y as tf.Tensor3D))([a, b], dy);
      const reference = tf.grads((x, y) => tf.matMul(x as tf.Tensor3D, y as tf.Tensor3D))([a, b], dy);
      expect(batchMatMul(a as tf.Tensor3D, b as tf.Tensor3D).arraySync()).toEqual(
        tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D).arraySync(),
      );
      for (let i = 0; i < 2; i++) {
        expect(
          tf.max(tf.abs(tf.sub(ours[i] as tf.Tensor, reference[i] as tf.Tensor))).dataSync()[0],
        ).toBeLessThan(1e-5);
      }
    });
  });
});

describe.each(["cpu", "wasm"] as const)("channelMatMul on %s", (backend) => {
  it("equals C independent matMuls, and so do both gradients (to 1e-5)", async () => {
    await useBackend(backend);
    tf.tidy(() => {
      const [m, k, c, n] = [5, 7, 6, 4];
      const x = tf.randomUniform([m, k, c], -1, 1, "float32", 11) as tf.Tensor3D;
      const f = tf.randomUniform([k, c, n], -1, 1, "float32", 12) as tf.Tensor3D;
      const dy = tf.randomUniform([m, c, n], -1, 1, "float32", 13);
      // Reference: batch axis first, tfjs's own matMul and gradient, then back to [M, C, N].
      const reference = (a: tf.Tensor, b: tf.Tensor) =>
        tf.transpose(
          tf.matMul(tf.transpose(a, [2, 0, 1]) as tf.Tensor3D, tf.transpose(b, [1, 0, 2]) as tf.Tensor3D),
          [1, 0, 2],
        );
      const ours = (a: tf.Tensor, b: tf.Tensor) => channelMatMul(a as tf.Tensor3D, b as tf.Tensor3D);
      const diff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number;
      expect(ours(x, f).shape).toEqual([m, c, n]);
      expect(diff(ours(x, f), reference(x, f))).toBeLessThan(1e-5);
      const g = tf.grads(ours)([x, f], dy);
      const e = tf.grads(reference)([x, f], dy);
      for (let i = 0; i < 2; i++) expect(diff(g[i] as tf.Tensor, e[i] as tf.Tensor)).toBeLessThan(1e-5);
    });
  });
});
