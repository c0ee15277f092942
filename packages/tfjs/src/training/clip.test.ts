import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { clipByGlobalNorm, clipScale, globalNorm } from "./clip";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("global-norm clipping (torch clip_grad_norm_)", () => {
  it("computes the global norm over all tensors", async () => {
    const a = tf.tensor1d([3, 4]);
    const b = tf.tensor2d([[12]]);
    const norm = globalNorm([a, b]);
    expect((await norm.data())[0]).toBeCloseTo(13, 5);
    tf.dispose([a, b, norm]);
  });

  it("scales by maxNorm / (norm + 1e-6) above the limit and leaves gradients alone below it", async () => {
    const a = tf.tensor1d([3, 4]);
    const b = tf.tensor1d([12]);
    const clipped = await clipByGlobalNorm([a, b], 6.5);
    expect(clipped.norm).toBeCloseTo(13, 5);
    expect(clipped.scale).toBeCloseTo(6.5 / (13 + 1e-6), 9);
    const after = globalNorm(clipped.tensors);
    expect((await after.data())[0]).toBeCloseTo(6.5, 5);
    expect(Array.from(await (clipped.tensors[0] as tf.Tensor).data())[0]).toBeCloseTo(1.5, 5);
    const loose = await clipByGlobalNorm([a, b], 20);
    expect(loose.scale).toBe(1);
    expect(Array.from(await (loose.tensors[1] as tf.Tensor).data())).toEqual([12]);
    expect(clipScale(13, 13)).toBeLessThan(1);
    expect(clipScale(1, 13)).toBe(1);
    tf.dispose([a, b, after, ...clipped.tensors, ...loose.tensors]);
  });

  it("reports a non-finite norm for NaN or Inf gradients", async () => {
    const a = tf.tensor1d([1, Number.NaN]);
    const b = tf.tensor1d([Number.POSITIVE_INFINITY]);
    const nan = globalNorm([a]);
    const inf = globalNorm([b]);
    expect(Number.isNaN((await nan.data())[0])).toBe(true);
    expect((await inf.data())[0]).toBe(Number.POSITIVE_INFINITY);
    tf.dispose([a, b, nan, inf]);
  });
});
