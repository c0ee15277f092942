import { resolveViTConfig } from "@kora/vit";
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import type { ClassificationTensorBatch, DepthTensorBatch } from "../batches";
import { TINY_VIT, tinyViT } from "../test-support/tiny";
import { classificationTask } from "./classification";
import { depthTask } from "./depth";

describe("classificationTask", () => {
  const task = classificationTask({ classes: 3 });

  it("trains with the mean cross-entropy of the logits", () => {
    const logits = [
      [2, 0, -1],
      [0.5, 0.5, 3],
    ];
    const labels = [0, 1];
    const expected =
      labels.reduce((sum, label, i) => {
        const row = logits[i]!;
        const logSum = Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
        return sum + logSum - row[label]!;
      }, 0) / 2;
    const batch = {
      kind: "classification",
      labels: tf.tensor1d(labels, "int32"),
    } as ClassificationTensorBatch;
    const loss = task.loss(tf.tensor2d(logits), batch);
    expect(loss.dataSync()[0]).toBeCloseTo(expected, 5);
  });

  it("decodes logits into arg-max class ids", () => {
    const ids = task.decode(
      tf.tensor2d([
        [0.1, 0.7, 0.2],
        [5, -1, 4.9],
      ]),
    );
    expect(ids.dtype).toBe("int32");
    expect(Array.from(ids.dataSync())).toEqual([1, 0]);
  });

  it("creates a head of its classes and checks a model's head", () => {
    const config = resolveViTConfig(TINY_VIT);
    const head = task.createHead(config, 5);
    expect(head.kind).toBe("classification");
    expect(head.variables()[0]!.shape).toEqual([24, 3]);
    expect(() => classificationTask({ classes: 4 }).checkHead(head, "here")).toThrow(
      expect.objectContaining({ code: "TASK_MISMATCH" }),
    );
    expect(() => task.checkHead(null, "here")).toThrow(expect.objectContaining({ code: "TASK_MISMATCH" }));
  });

  it("rejects a class count that is not a positive integer", () => {
    expect(() => classificationTask({ classes: 0 })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT", path: "classes" }),
    );
  });
});

describe("depthTask", () => {
  const task = depthTask({ range: [0.5, 10] });

  it("trains with L1 on log depth over the valid pixels", () => {
    const raw = [Math.log(2), Math.log(1), 0.3, 7];
    const depth = [1, 1, 4, 0];
    const mask = [1, 1, 1, 0];
    const expected =
      (Math.abs(raw[0]! - Math.log(1)) + Math.abs(raw[1]! - Math.log(1)) + Math.abs(raw[2]! - Math.log(4))) /
      3;
    const batch = {
      kind: "depth",
      depths: tf.tensor4d(depth, [1, 2, 2, 1]),
      mask: tf.tensor4d(mask, [1, 2, 2, 1]),
    } as DepthTensorBatch;
    const loss = task.loss(tf.tensor4d(raw, [1, 2, 2, 1]), batch);
    expect(loss.dataSync()[0]).toBeCloseTo(expected, 5);
  });

  it("has a gradient for an output far outside the depth range (no clip in the loss)", () => {
    const batch = {
      kind: "depth",
      depths: tf.tensor4d([1], [1, 1, 1, 1]),
      mask: tf.tensor4d([1], [1, 1, 1, 1]),
    } as DepthTensorBatch;
    const gradient = tf.grad((x: tf.Tensor) => task.loss(x, batch))(tf.tensor4d([20], [1, 1, 1, 1]));
    expect(gradient.dataSync()[0]).toBeCloseTo(1, 6);
  });

  it("decodes the output as exp(output) metres", () => {
    const metres = task.decode(tf.tensor1d([0, Math.log(3), -1]));
    const values = Array.from(metres.dataSync());
    expect(values[0]).toBeCloseTo(1, 6);
    expect(values[1]).toBeCloseTo(3, 5);
    expect(values[2]).toBeCloseTo(Math.exp(-1), 6);
  });

  it("makes a depth head whose map has the image's size", () => {
    const vit = tinyViT();
    vit.setHead(task.createHead(vit.config, 3));
    const out = vit.forward(tf.zeros([2, 16, 16, 3]) as tf.Tensor4D, { format: "NHWC" });
    expect(task.rawOutput(out).shape).toEqual([2, 16, 16, 1]);
    expect(() => classificationTask({ classes: 2 }).rawOutput(out)).toThrow(
      expect.objectContaining({ code: "TASK_MISMATCH" }),
    );
    vit.dispose();
  });

  it("defaults to NYU's [1e-3, 10] m and rejects a bad range", () => {
    expect(depthTask().depthRange).toEqual([1e-3, 10]);
    expect(() => depthTask({ range: [3, 1] })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => depthTask({ range: [0, Number.POSITIVE_INFINITY] })).toThrow(
      expect.objectContaining({ path: "range" }),
    );
  });
});
