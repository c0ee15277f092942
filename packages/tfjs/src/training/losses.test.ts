import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { crossEntropy, depthL1Loss, scaleInvariantLogLoss } from "./losses";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

function scalar(t: tf.Tensor): number {
  const v = t.dataSync()[0] as number;
  t.dispose();
  return v;
}

describe("crossEntropy (torch F.cross_entropy semantics)", () => {
  const logits = tf.tensor2d([
    [2, 0.5, -1],
    [0.1, 0.2, 0.3],
  ]);

  it("plain and label-smoothed values match hand computation", () => {
    // log-softmax rows; NLL mean = 0.6216270724…; with ε = 0.1, K = 3:
    // (1 − ε)·NLL + ε·mean_k(−log p_k) averaged = 0.7016270724… (numpy reference of torch's formula).
    expect(scalar(crossEntropy(logits, [0, 2]))).toBeCloseTo(0.6216270724432006, 6);
    expect(scalar(crossEntropy(logits, tf.tensor1d([0, 2], "int32"), { labelSmoothing: 0.1 }))).toBeCloseTo(
      0.7016270724432006,
      6,
    );
  });

  it("ignoreIndex drops examples from the mean; large logits do not overflow", () => {
    const first = scalar(crossEntropy(logits.slice([0, 0], [1, 3]), [0]));
    expect(scalar(crossEntropy(logits, [0, -100]))).toBeCloseTo(first, 6);
    const big = tf.tensor2d([[1000, 0]]);
    expect(scalar(crossEntropy(big, [1]))).toBeCloseTo(1000, 3);
  });

  it("gradient is softmax − target (smoothed) over n", () => {
    const x = tf.tensor2d([[1, 2, 3]]);
    const g = tf.grad((l) => crossEntropy(l, [2], { labelSmoothing: 0.3 }))(x);
    const p = tf.softmax(x).dataSync();
    const target = [0.1, 0.1, 0.8];
    Array.from(g.dataSync()).forEach((v, i) => {
      expect(v).toBeCloseTo((p[i] as number) - (target[i] as number), 6);
    });
  });
});

describe("depth losses", () => {
  // Image 0: target [1, 4, 0 (invalid), 2]; image 1: [1, NaN, 4, 0] — invalid pixels are 0 or non-finite.
  const prediction = tf.tensor3d([[[1, 2, 3, 4]], [[2, 2, 2, 2]]]);
  const target = tf.tensor3d([[[1, 4, 0, 2]], [[1, Number.NaN, 4, 0]]]);

  it("L1 over valid pixels of the batch", () => {
    // |1−1| + |2−4| + |4−2| + |2−1| + |2−4| = 7 over 5 valid pixels.
    expect(scalar(depthL1Loss(prediction, target))).toBeCloseTo(1.4, 6);
    const mask = tf.tensor3d([[[1, 1, 1, 0]], [[1, 1, 1, 1]]]);
    expect(scalar(depthL1Loss(prediction, target, { mask }))).toBeCloseTo(5 / 4, 6);
    // maxDepth 3 keeps targets 1, 2 (image 0) and 1 (image 1): (0 + 2 + 1) / 3.
    expect(scalar(depthL1Loss(prediction, target, { maxDepth: 3 }))).toBeCloseTo(1, 6);
  });

  it("scale-invariant log loss (Eigen et al. 2014) per image, λ = 0.5 and λ = 0", () => {
    // numpy: per image (1/n)Σd² − (λ/n²)(Σd)² = [0.3203020092788009, 0.4804530139182014], mean 0.40037751…
    expect(scalar(scaleInvariantLogLoss(prediction, target, { lambda: 0.5 }))).toBeCloseTo(
      0.40037751159850116,
      6,
    );
    // λ = 1 is invariant to a global scale of the prediction.
    const scaled = tf.mul(prediction, 3.7);
    expect(scalar(scaleInvariantLogLoss(scaled, target, { lambda: 1 }))).toBeCloseTo(
      scalar(scaleInvariantLogLoss(prediction, target, { lambda: 1 })),
      6,
    );
    // λ = 0 is the plain mean squared log error per image.
    const d0 = [0, Math.log(2 / 4), Math.log(4 / 2)];
    const d1 = [Math.log(2), Math.log(2 / 4)];
    const mse = (d: number[]) => d.reduce((a, b) => a + b * b, 0) / d.length;
    expect(scalar(scaleInvariantLogLoss(prediction, target, { lambda: 0 }))).toBeCloseTo(
      (mse(d0) + mse(d1)) / 2,
      6,
    );
  });

  it("gradients stay finite with NaN targets and are zero on invalid pixels", () => {
    const g = tf.grad((p) => scaleInvariantLogLoss(p, target))(prediction);
    const values = Array.from(g.dataSync());
    expect(values.every(Number.isFinite)).toBe(true);
    expect([values[2], values[5], values[7]]).toEqual([0, 0, 0]);
    const g1 = tf.grad((p) => depthL1Loss(p, target))(prediction);
    expect(Array.from(g1.dataSync()).every(Number.isFinite)).toBe(true);
  });

  it("an all-invalid batch gives 0, not NaN", () => {
    const empty = tf.zeros([1, 2, 2]);
    expect(scalar(depthL1Loss(tf.ones([1, 2, 2]), empty))).toBe(0);
    expect(scalar(scaleInvariantLogLoss(tf.ones([1, 2, 2]), empty))).toBe(0);
  });
});
