import { rmSync } from "node:fs";
import type { SegmentationDataset } from "@kora/datasets";
import { disposeModel, disposeTensors, evaluateTask, segmentationTask, tensorBatches } from "@kora/finetune";
import { saveModel } from "@kora/finetune/node";
import { type SegmentationMetrics, segmentationMetrics } from "@kora/metrics";
import type { Preset } from "../config/presets";
import { type BackboneInfo, backboneConfig } from "./backbone";
import { fixedItems, openSegmentation, type TaskContext } from "./context";
import { artifactDir, buildModel, checkpointDir, gateRecord } from "./model";
import { trainRun } from "./training";
import type { RunRequest, TaskOutput } from "./types";

/** Optimizer steps of a segmentation run. */
export function segmentSteps(preset: Preset): number {
  const { segmentation, batchSize } = preset;
  return segmentation.steps ?? Math.ceil(segmentation.trainItems / batchSize) * segmentation.epochs;
}

/**
 * 4.5: a segmentation head (a linear layer on every patch token, its logits upsampled bilinearly) on the adapted
 * backbone; adapter + head trained on a fixed subset of the synthetic segmentation train split with
 * `@kora/finetune`'s segmentation task (pixel-wise cross-entropy), scored by mIoU and pixel accuracy.
 */
export async function runSegment(
  context: TaskContext,
  backbone: BackboneInfo,
  request: RunRequest,
): Promise<TaskOutput> {
  const { preset, out } = context;
  const trainSet = await openSegmentation(preset, "train");
  const evalSet = await openSegmentation(preset, "test");
  const items = fixedItems(trainSet.size, preset.segmentation.trainItems, "segmentation-items");
  const evalItems = fixedItems(evalSet.size, preset.segmentation.evalSize, "segmentation-eval");
  const task = segmentationTask({ classes: trainSet.classes.length });
  if (request.method.kind === "constant") {
    return constantControl(context, backbone, trainSet, items, evalSet, evalItems);
  }
  const model = await buildModel(backbone, request.method, request.seed, task);
  try {
    const steps = segmentSteps(preset);
    const trained = await trainRun(context, request, model.vit, task, {
      dataset: trainSet,
      items,
      steps,
      learningRate: preset.segmentation.learningRate,
      gateLearningRateMultiplier: request.training?.gateLearningRateMultiplier,
    });
    const evalStarted = performance.now();
    const scores = await evaluateTask(model.vit, task, evalSet, {
      batchSize: preset.batchSize,
      indices: evalItems,
    });
    await saveModel(model.vit, artifactDir(out, request.key), { metadata: { run: request.key } });
    rmSync(checkpointDir(out, request.key), { recursive: true, force: true });
    return {
      metrics: { ...segmentationColumns(scores), paramsTunedPct: null },
      curve: trained.curve,
      extra: {
        trainItems: items.length,
        steps,
        evalExamples: scores.examples,
        loss: task.lossName,
        perClassIoU: scores.perClassIoU,
        ...gateRecord(model.vit, trained),
      },
      trainSeconds: trained.seconds,
      evalSeconds: (performance.now() - evalStarted) / 1000,
    };
  } finally {
    disposeModel(model.vit);
  }
}

/**
 * The most-frequent-class control: every pixel predicted as the class most frequent over the training items'
 * pixels (the background here), scored like every run — the same batches, so the ground truth is the class map at
 * the model's resolution, as `evaluateTask` sees it. A row that does not beat its mIoU has learnt no shape.
 */
async function constantControl(
  context: TaskContext,
  backbone: BackboneInfo,
  trainSet: SegmentationDataset,
  items: readonly number[],
  evalSet: SegmentationDataset,
  evalItems: readonly number[],
): Promise<TaskOutput> {
  const started = performance.now();
  const config = await backboneConfig(backbone);
  const classes = trainSet.classes.length;
  const counts = new Float64Array(classes);
  for (const item of items) for (const id of trainSet.get(item).mask) counts[id]! += 1;
  const frequent = counts.indexOf(Math.max(...counts));
  const predicted: Int32Array[] = [];
  const truth: Int32Array[] = [];
  const batches = tensorBatches(evalSet, config, { batchSize: context.preset.batchSize, indices: evalItems });
  for await (const batch of batches) {
    if (batch.kind !== "segmentation") continue;
    const [n, h, w] = batch.labels.shape;
    for (let i = 0; i < n; i++) {
      truth.push(batch.labelValues.slice(i * h * w, (i + 1) * h * w));
      predicted.push(new Int32Array(h * w).fill(frequent));
    }
    disposeTensors(batch);
  }
  const scores = segmentationMetrics(predicted, truth, { classes });
  return {
    metrics: { ...segmentationColumns(scores), paramsTunedPct: 0 },
    curve: [],
    extra: { trainItems: items.length, steps: 0, evalExamples: evalItems.length, predictedClass: frequent },
    trainSeconds: 0,
    evalSeconds: (performance.now() - started) / 1000,
  };
}

/** The 4.5 table's columns of a score. */
function segmentationColumns(scores: SegmentationMetrics): Record<string, number> {
  return { mIoU: scores.mIoU, pixelAccuracy: scores.pixelAccuracy };
}
