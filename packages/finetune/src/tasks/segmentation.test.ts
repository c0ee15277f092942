import { resizeBilinear } from "@kora/datasets";
import { segmentationMetrics } from "@kora/metrics";
import { KoraError, parseAdapterSpec } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import type { SegmentationTensorBatch } from "../batches";
import { tensorBatches } from "../batches";
import { evaluateTask } from "../evaluate";
import { finetune } from "../fit";
import { prepareModel } from "../model";
import { tinyDepth, tinySegmentation, tinyViT } from "../test-support/tiny";
import { classificationTask } from "./classification";
import { depthTask } from "./depth";
import { segmentationTask } from "./segmentation";
import { bilinearMatrix, type SegmentationHead } from "./segmentation-head";

const isMismatch = (error: unknown) => KoraError.isInstance(error) && error.code === "TASK_MISMATCH";

describe("segmentationTask", () => {
  const task = segmentationTask({ classes: 3 });

  it("trains with the mean pixel-wise cross-entropy over the pixels that are not ignored", () => {
    // Two pixels scored (labels 2 and 0), the third void (255).
    const logits = [
      [1, 0, 2],
      [0.5, -1, 0],
      [9, 9, -9],
    ];
    const ce = (row: number[], label: number) =>
      Math.log(row.reduce((s, v) => s + Math.exp(v), 0)) - row[label]!;
    const expected = (ce(logits[0]!, 2) + ce(logits[1]!, 0)) / 2;
    const batch = { kind: "segmentation", labels: tf.tensor3d([2, 0, 255], [1, 1, 3], "int32") };
    const loss = task.loss(tf.tensor4d(logits.flat(), [1, 1, 3, 3]), batch as SegmentationTensorBatch);
    expect(loss.dataSync()[0]).toBeCloseTo(expected, 5);
  });

  it("decodes logits into the arg-max class of every pixel", () => {
    const ids = task.decode(tf.tensor4d([0, 1, 0, 5, 2, 1, -1, -2, 0, 3, 3, 4], [1, 2, 2, 3]));
    expect(ids.dtype).toBe("int32");
    expect(ids.shape).toEqual([1, 2, 2]);
    expect(Array.from(ids.dataSync())).toEqual([1, 0, 2, 2]);
  });

  it("upsamples the patch logits bilinearly with half-pixel centres, as resizeBilinear does", () => {
    const vit = tinyViT(4);
    const head = task.createHead(vit.config, 2) as SegmentationHead;
    vit.setHead(head);
    const out = vit.forward(tf.randomUniform([2, 16, 16, 3], -1, 1, "float32", 3) as tf.Tensor4D, {
      format: "NHWC",
    });
    const map = task.rawOutput(out);
    expect(map.shape).toEqual([2, 16, 16, 3]);
    // The reference: the patch logits computed by hand from the tokens, resized by @kora/datasets.
    const patches = tf.slice(out.lastHiddenState, [0, 1, 0], [2, 16, 24]);
    const logits = tf.add(tf.matMul(tf.reshape(patches, [32, 24]), head.kernel), head.bias).dataSync();
    for (let b = 0; b < 2; b++) {
      const grid = Float32Array.from(logits.subarray(b * 48, (b + 1) * 48));
      const expected = resizeBilinear(grid, [4, 4, 3], 16, 16);
      const actual = map.dataSync().subarray(b * 768, (b + 1) * 768);
      for (let i = 0; i < expected.length; i++) expect(actual[i]).toBeCloseTo(expected[i]!, 5);
    }
    // Each row of the interpolation matrix is a convex combination.
    const m = bilinearMatrix(4, 16);
    for (let i = 0; i < 16; i++)
      expect(m.subarray(i * 4, i * 4 + 4).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 6);
    vit.dispose();
  });

  it("checks heads and outputs: another kind, a depth head or other classes is TASK_MISMATCH", () => {
    const vit = tinyViT();
    const head = task.createHead(vit.config, 1);
    expect(() => task.checkHead(head, "here")).not.toThrow();
    expect(() => segmentationTask({ classes: 4 }).checkHead(head, "here")).toThrow(
      expect.objectContaining({ code: "TASK_MISMATCH" }),
    );
    expect(() => task.checkHead(depthTask().createHead(vit.config, 1), "here")).toThrow(
      expect.objectContaining({ code: "TASK_MISMATCH" }),
    );
    expect(() => depthTask().checkHead(head, "here")).toThrow(
      expect.objectContaining({ code: "TASK_MISMATCH" }),
    );
    expect(() => task.checkHead(null, "here")).toThrow(expect.objectContaining({ code: "TASK_MISMATCH" }));
    vit.setHead(depthTask().createHead(vit.config, 1));
    const out = vit.forward(tf.zeros([1, 16, 16, 3]) as tf.Tensor4D, { format: "NHWC" });
    expect(() => task.rawOutput(out)).toThrow(expect.objectContaining({ code: "TASK_MISMATCH" }));
    head.dispose();
    vit.dispose();
  });

  it("frees every tensor it made when disposed", () => {
    const vit = tinyViT();
    const before = tf.memory().numTensors;
    task.createHead(vit.config, 3).dispose();
    expect(tf.memory().numTensors).toBe(before);
    vit.dispose();
  });

  it("rejects a class count below 2 and an ignoreIndex that is a class", () => {
    expect(() => segmentationTask({ classes: 1 })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT", path: "classes" }),
    );
    expect(() => segmentationTask({ classes: 3, ignoreIndex: 2 })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT", path: "ignoreIndex" }),
    );
  });

  it("lowers the training loss on a tiny dataset (LoRA + head)", async () => {
    const vit = tinyViT(1);
    const seg = segmentationTask({ classes: 11 });
    const lora = { kind: "adapter" as const, spec: parseAdapterSpec({ method: "lora", rank: 2, alpha: 4 }) };
    prepareModel(vit, seg, lora, 0);
    const losses: number[] = [];
    await finetune({
      vit,
      task: seg,
      dataset: tinySegmentation(8),
      batchSize: 8,
      epochs: 12,
      learningRate: 1e-2,
      warmupSteps: 0,
      seed: 0,
      onStep: (event) => {
        losses.push(event.loss);
      },
    });
    expect(losses).toHaveLength(12);
    // The same 8 images every step (one batch), so the loss is comparable step to step.
    expect(losses.at(-1)!).toBeLessThan(0.8 * losses[0]!);
    vit.dispose();
  });
});

describe("evaluateTask on segmentation", () => {
  it("equals segmentationMetrics on the model's per-pixel arg-max, computed by hand", async () => {
    const dataset = tinySegmentation(6, "test");
    const task = segmentationTask({ classes: 11 });
    const vit = tinyViT(5);
    vit.setHead(task.createHead(vit.config, 6));
    // Push the head off its near-uniform start so predictions are not all one class.
    const head = vit.head as SegmentationHead;
    head.kernel.assign(tf.randomNormal(head.kernel.shape, 0, 1, "float32", 7));
    const predicted: Int32Array[] = [];
    const truth: Int32Array[] = [];
    for await (const batch of tensorBatches(dataset, vit.config, { batchSize: 100 })) {
      if (batch.kind !== "segmentation") throw new Error("expected segmentation");
      const logits = vit.forward(batch.images, { format: "NHWC" }).depth!.dataSync();
      for (let i = 0; i < 6; i++) {
        const map = new Int32Array(256);
        for (let p = 0; p < 256; p++) {
          const row = logits.subarray((i * 256 + p) * 11, (i * 256 + p + 1) * 11);
          map[p] = row.indexOf(Math.max(...row));
        }
        predicted.push(map);
        truth.push(batch.labelValues.slice(i * 256, (i + 1) * 256));
      }
    }
    const expected = segmentationMetrics(predicted, truth, { classes: 11 });
    const report = await evaluateTask(vit, task, dataset, { batchSize: 4 });
    expect(report.task).toBe("segmentation");
    expect(report.examples).toBe(6);
    expect(report.pixels).toBe(6 * 256);
    expect(report.mIoU).toBeCloseTo(expected.mIoU, 12);
    expect(report.pixelAccuracy).toBeCloseTo(expected.pixelAccuracy, 12);
    expect(report.meanClassAccuracy).toBeCloseTo(expected.meanClassAccuracy, 12);
    expect(new Set(predicted.flatMap((m) => [...m])).size).toBeGreaterThan(1);
    vit.dispose();
  });

  it("rejects a dataset of another task, and a classification head, with TASK_MISMATCH", async () => {
    const vit = tinyViT();
    const task = segmentationTask({ classes: 11 });
    vit.setHead(task.createHead(vit.config, 1));
    await expect(evaluateTask(vit, task, tinyDepth(2), { batchSize: 2 })).rejects.toSatisfy(isMismatch);
    await expect(
      evaluateTask(vit, segmentationTask({ classes: 5 }), tinySegmentation(2), { batchSize: 2 }),
    ).rejects.toSatisfy(isMismatch);
    vit.setHead(classificationTask({ classes: 11 }).createHead(vit.config, 1));
    await expect(evaluateTask(vit, task, tinySegmentation(2), { batchSize: 2 })).rejects.toSatisfy(
      isMismatch,
    );
    vit.dispose();
  });
});
