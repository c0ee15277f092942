import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { afterAll, describe, expect, it } from "vitest";
import { linear } from "../ops";
import { shareWasmIdentity } from "./wasm-kernels";

interface RefCounting {
  refCount(dataId: tf.DataId): number;
}

afterAll(async () => {
  await tf.setBackend("cpu");
});

/** Loss and gradients of a small two-layer net whose backward pass reads saved (cloned) activations. */
function lossAndGrads(): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.randomUniform([33, 20], -1, 1, "float32", 1) as tf.Tensor2D;
    const w1 = tf.randomUniform([20, 40], -1, 1, "float32", 2) as tf.Tensor2D;
    const w2 = tf.randomUniform([40, 5], -1, 1, "float32", 3) as tf.Tensor2D;
    const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
      tf.sum(tf.square(linear(tf.sigmoid(linear(a as tf.Tensor2D, b as tf.Tensor2D)), c as tf.Tensor2D)));
    const { value, grads } = tf.valueAndGrads(f)([x, w1, w2]);
    return [value, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

describe("shareWasmIdentity", () => {
  it("gives the same gradients as the copying kernel, and clones share one buffer until both are disposed", async () => {
    await tf.setBackend("wasm");
    const before = lossAndGrads();
    const backend = tf.backend() as unknown as RefCounting;
    const probe = tf.tensor1d([1, 2, 3]);
    const copied = tf.clone(probe);
    expect(backend.refCount(copied.dataId)).toBe(1); // tfjs's wasm Identity copies
    tf.dispose([probe, copied]);

    shareWasmIdentity();
    shareWasmIdentity(); // idempotent
    const after = lossAndGrads();
    expect(after.length).toBe(before.length);
    after.forEach((values, i) => {
      expect(Array.from(values)).toEqual(Array.from(before[i] as Float32Array));
    });

    const baseline = tf.memory().numTensors;
    const x = tf.tensor1d([4, 5, 6]);
    const y = tf.clone(x);
    expect(y.dataId).toBe(x.dataId);
    expect(backend.refCount(x.dataId)).toBe(2);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([4, 5, 6]);
    expect(backend.refCount(y.dataId)).toBe(1);
    y.dispose();
    expect(backend.refCount(y.dataId)).toBe(0);
    expect(tf.memory().numTensors).toBe(baseline);
  });
});
