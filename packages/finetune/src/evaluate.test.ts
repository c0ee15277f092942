import { accuracy, confusionMatrix, depthMetrics, f1Score, type Matrix } from "@kora/metrics";
import { KoraError } from "@kora/spec";
import { describe, expect, it } from "vitest";
import { tensorBatches } from "./batches";
import { evaluateTask } from "./evaluate";
import { classificationTask } from "./tasks/classification";
import { depthTask } from "./tasks/depth";
import { tinyClassification, tinyDepth, tinyViT } from "./test-support/tiny";

describe("evaluateTask", () => {
  it("scores classification as @kora/metrics does on the model's arg-max predictions", async () => {
    const dataset = tinyClassification(24, "test");
    const task = classificationTask({ classes: dataset.classes.length });
    const vit = tinyViT(2);
    vit.setHead(task.createHead(vit.config, 9));
    // The reference: one forward pass over the whole subset, decoded by hand.
    const indices = [3, 1, 4, 15, 9, 2, 6, 5, 13];
    const truth: number[] = [];
    const predicted: number[] = [];
    for await (const batch of tensorBatches(dataset, vit.config, { batchSize: 100, indices })) {
      if (batch.kind !== "classification") throw new Error("expected classification");
      const logits = vit.forward(batch.images, { format: "NHWC" }).logits!.arraySync();
      for (const row of logits) predicted.push(row.indexOf(Math.max(...row)));
      truth.push(...batch.labels.dataSync());
    }
    let batches = 0;
    const report = await evaluateTask(vit, task, dataset, {
      batchSize: 4,
      indices,
      onBatch: () => {
        batches++;
      },
    });
    const t = Int32Array.from(truth);
    const p = Int32Array.from(predicted);
    expect(batches).toBe(3);
    expect(report.examples).toBe(9);
    expect(report.accuracy).toBeCloseTo(accuracy(t, p), 12);
    expect(report.macroF1).toBeCloseTo(f1Score(t, p, { average: "macro", zeroDivision: 0 }), 12);
    expect(report.confusionMatrix).toEqual(
      confusionMatrix(t, p, { labels: Array.from({ length: task.classes }, (_, k) => k) }).matrix,
    );
    vit.dispose();
  });

  it("scores depth in metres (exp of the output) over the task's range", async () => {
    const dataset = tinyDepth(6, "test");
    const task = depthTask({ range: [0.5, 10] });
    const vit = tinyViT(3);
    vit.setHead(task.createHead(vit.config, 4));
    const predictions: Matrix[] = [];
    const truths: Matrix[] = [];
    for await (const batch of tensorBatches(dataset, vit.config, { batchSize: 100, depthRange: [0.5, 10] })) {
      if (batch.kind !== "depth") throw new Error("expected depth");
      const raw = vit.forward(batch.images, { format: "NHWC" }).depth!.dataSync();
      for (let i = 0; i < 6; i++) {
        const data = Float32Array.from(raw.subarray(i * 256, (i + 1) * 256), Math.exp);
        predictions.push({ rows: 16, cols: 16, data });
        truths.push({ rows: 16, cols: 16, data: batch.depthValues.subarray(i * 256, (i + 1) * 256) });
      }
    }
    const expected = depthMetrics(predictions, truths, { minDepth: 0.5, maxDepth: 10 });
    const report = await evaluateTask(vit, task, dataset, { batchSize: 4 });
    expect(report.examples).toBe(6);
    for (const key of ["rmse", "absRel", "delta1", "delta2", "delta3", "rmseLog"] as const) {
      expect(report[key]).toBeCloseTo(expected[key], 5);
    }
    vit.dispose();
  });

  it("rejects a dataset of another task or another class count with TASK_MISMATCH", async () => {
    const vit = tinyViT();
    const task = classificationTask({ classes: 3 });
    vit.setHead(task.createHead(vit.config, 1));
    const isMismatch = (error: unknown) => KoraError.isInstance(error) && error.code === "TASK_MISMATCH";
    await expect(evaluateTask(vit, task, tinyDepth(2), { batchSize: 2 })).rejects.toSatisfy(isMismatch);
    await expect(evaluateTask(vit, task, tinyClassification(4), { batchSize: 2 })).rejects.toSatisfy(
      isMismatch,
    );
    await expect(evaluateTask(vit, depthTask(), tinyDepth(2), { batchSize: 2 })).rejects.toSatisfy(
      isMismatch,
    );
    vit.dispose();
  });
});
