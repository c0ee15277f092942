import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { useBackend } from "../test-support/fixtures";
import { createViT, type ViT } from "./vit";

beforeAll(async () => {
  await useBackend("wasm");
});

/** A tiny synthetic batch: the class is which quadrant of the image is bright. */
function batch(): { pixels: tf.Tensor4D; labels: tf.Tensor2D } {
  return tf.tidy(() => {
    const images: tf.Tensor3D[] = [];
    const classes: number[] = [];
    for (let i = 0; i < 8; i++) {
      const label = i % 4;
      const noise = tf.randomUniform([32, 32, 3], -0.2, 0.2, "float32", i);
      const mask = tf.pad(tf.ones([16, 16, 3]), [
        [label < 2 ? 0 : 16, label < 2 ? 16 : 0],
        [label % 2 === 0 ? 0 : 16, label % 2 === 0 ? 16 : 0],
        [0, 0],
      ]);
      images.push(tf.add(noise, tf.sub(tf.mul(mask, 1.5), 0.75)) as tf.Tensor3D);
      classes.push(label);
    }
    return {
      pixels: tf.stack(images) as tf.Tensor4D,
      labels: tf.oneHot(classes, 10).toFloat() as tf.Tensor2D,
    };
  });
}

/** Runs `steps` Adam steps and returns the losses; asserts the tensor count is the same after every step. */
function train(vit: ViT, learningRate: number, steps: number): number[] {
  const { pixels, labels } = batch();
  const optimizer = tf.train.adam(learningRate);
  const variables = vit.trainableVariables();
  const losses: number[] = [];
  let count: number | null = null;
  for (let step = 0; step < steps; step++) {
    const loss = optimizer.minimize(
      () =>
        tf.losses.softmaxCrossEntropy(
          labels,
          vit.forward(pixels, { format: "NHWC", training: true }).logits as tf.Tensor2D,
        ) as tf.Scalar,
      true,
      variables,
    ) as tf.Scalar;
    losses.push(loss.dataSync()[0] as number);
    loss.dispose();
    // Adam creates its moment variables on the first step; from then on every step must leave the count alone.
    if (count === null) count = tf.memory().numTensors;
    else expect(tf.memory().numTensors, `tensors after step ${step}`).toBe(count);
  }
  optimizer.dispose();
  tf.dispose([pixels, labels]);
  return losses;
}

describe("training vit-micro on the wasm backend", () => {
  it("full fine-tuning: the loss decreases and no tensor leaks per step", () => {
    expect(tf.getBackend()).toBe("wasm");
    const vit = createViT("vit-micro", { seed: 1 });
    const snapshot = vit.backboneVariables().map((v) => Float32Array.from(v.dataSync() as Float32Array));
    const before = tf.memory().numTensors;
    const losses = train(vit, 1e-3, 6);
    console.info(`[train wasm full] losses ${losses.map((l) => l.toFixed(4)).join(" ")}`);
    expect(losses.at(-1)).toBeLessThan((losses[0] as number) * 0.9);
    expect(tf.memory().numTensors).toBe(before);
    // Every backbone variable received a gradient on wasm (patch embedding, CLS, positions, all blocks).
    const unchanged = vit
      .backboneVariables()
      .filter((v, i) => Array.from(v.dataSync()).every((x, j) => x === snapshot[i]?.[j]));
    expect(unchanged).toHaveLength(0);
    vit.dispose();
  });

  it("frozen backbone + head: the loss decreases, the backbone does not move, the head does", () => {
    const vit = createViT("vit-micro", { seed: 2 });
    vit.setBackboneTrainable(false);
    const snapshot = vit.backboneVariables().map((v) => Float32Array.from(v.dataSync() as Float32Array));
    const head = Float32Array.from(vit.headVariables()[0]?.dataSync() as Float32Array);
    const losses = train(vit, 1e-2, 6);
    console.info(`[train wasm frozen] losses ${losses.map((l) => l.toFixed(4)).join(" ")}`);
    expect(losses.at(-1)).toBeLessThan((losses[0] as number) * 0.9);
    vit.backboneVariables().forEach((v, i) => {
      expect(Array.from(v.dataSync())).toEqual(Array.from(snapshot[i] as Float32Array));
    });
    expect(Array.from(vit.headVariables()[0]?.dataSync() ?? [])).not.toEqual(Array.from(head));
    vit.dispose();
  });
});
