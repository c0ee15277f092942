import * as tf from "@tensorflow/tfjs";
import { afterAll, describe, expect, it } from "vitest";
import { useBackend } from "../test-support/fixtures";
import { createViT } from "./vit";

afterAll(async () => {
  await useBackend("cpu");
});

/** Logits and the gradient of every variable for one fixed batch, on the active backend, as plain arrays. */
function logitsAndGradients(): { logits: Float32Array; grads: Float32Array[] } {
  const vit = createViT("vit-micro", { seed: 3 });
  const pixels = tf.randomUniform([3, 32, 32, 3], -1, 1, "float32", 4) as tf.Tensor4D;
  const logits = tf.tidy(() => vit.forward(pixels, { format: "NHWC" }).logits as tf.Tensor2D);
  const { value, grads } = tf.variableGrads(
    () => tf.sum(tf.square(vit.forward(pixels, { format: "NHWC", training: true }).logits as tf.Tensor2D)),
    vit.trainableVariables(),
  );
  const result = {
    logits: logits.dataSync() as Float32Array,
    grads: vit.trainableVariables().map((v) => (grads[v.name] as tf.Tensor).dataSync() as Float32Array),
  };
  tf.dispose([pixels, logits, value, ...Object.values(grads)]);
  vit.dispose();
  return result;
}

function maxAbs(a: Float32Array): number {
  return a.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
}

describe("attention on wasm (depthwise-convolution products) against cpu (batched matMul)", () => {
  it("gives the same logits (1e-4) and the same gradient for every variable (1e-4 of its scale)", async () => {
    await useBackend("cpu");
    const cpu = logitsAndGradients();
    await useBackend("wasm");
    const wasm = logitsAndGradients();
    for (let i = 0; i < cpu.logits.length; i++) {
      expect(Math.abs((wasm.logits[i] as number) - (cpu.logits[i] as number))).toBeLessThan(1e-4);
    }
    expect(wasm.grads).toHaveLength(cpu.grads.length);
    cpu.grads.forEach((expected, v) => {
      const actual = wasm.grads[v] as Float32Array;
      const scale = Math.max(maxAbs(expected), 1e-3);
      let worst = 0;
      for (let i = 0; i < expected.length; i++) {
        worst = Math.max(worst, Math.abs((actual[i] as number) - (expected[i] as number)));
      }
      expect(worst / scale, `variable ${v}`).toBeLessThan(1e-4);
    });
  });
});
