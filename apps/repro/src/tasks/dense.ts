import { rmSync } from "node:fs";
import type { DepthDataset } from "@kora/datasets";
import {
  depthTask,
  disposeModel,
  disposeTensors,
  evaluateTask,
  medianDepth,
  tensorBatches,
} from "@kora/finetune";
import { saveModel } from "@kora/finetune/node";
import { type DepthMetrics, depthMetrics, type Matrix } from "@kora/metrics";
import { type BackboneInfo, backboneConfig } from "./backbone";
import { fixedItems, openDepth, type TaskContext } from "./context";
import { artifactDir, buildModel, checkpointDir, gateRecord } from "./model";
import { trainRun } from "./training";
import type { RunRequest, TaskOutput } from "./types";

/** Optimizer steps of a dense run over `items` training items. */
export function denseSteps(context: TaskContext, items: number): number {
  const { depth, batchSize } = context.preset;
  return depth.steps ?? Math.ceil(items / batchSize) * depth.epochs;
}

/**
 * 4.4: a depth head on the adapted backbone; adapter + head trained on `fraction` of the depth train split with
 * `@kora/finetune`'s depth task (L1 on log depth, decoded as exp(output) metres — the same as `kora train`).
 */
export async function runDense(
  context: TaskContext,
  backbone: BackboneInfo,
  request: RunRequest,
): Promise<TaskOutput> {
  const { preset, out } = context;
  const trainSet = await openDepth(preset, "train");
  const evalSet = await openDepth(preset, "test");
  const count = Math.max(1, Math.round(trainSet.size * preset.depth.fraction));
  const items = fixedItems(trainSet.size, count, "depth-items");
  const evalItems = fixedItems(evalSet.size, preset.depth.evalSize, "depth-eval");
  const median = medianDepth(trainSet, { indices: items, range: preset.depth.range });
  if (request.method.kind === "constant") {
    return constantControl(context, backbone, evalSet, evalItems, median, items.length);
  }
  // Every depth head starts at the training median: an untrained model is the constant control.
  const task = depthTask({ range: preset.depth.range, initialDepth: median });
  const model = await buildModel(backbone, request.method, request.seed, task);
  try {
    const steps = denseSteps(context, items.length);
    const trained = await trainRun(context, request, model.vit, task, {
      dataset: trainSet,
      items,
      steps,
      learningRate: preset.depth.learningRate,
      gateLearningRateMultiplier: request.training?.gateLearningRateMultiplier,
    });
    const evalStarted = performance.now();
    const scores = await evaluateTask(model.vit, task, evalSet, {
      batchSize: preset.batchSize,
      indices: evalItems,
    });
    await saveModel(model.vit, artifactDir(out, request.key), { metadata: { run: request.key } });
    rmSync(checkpointDir(out, request.key), { recursive: true, force: true });
    const size = model.vit.config.imageSize;
    return {
      metrics: { ...depthColumns(scores), paramsTunedPct: null },
      curve: trained.curve,
      extra: {
        trainItems: items.length,
        steps,
        evalExamples: scores.examples,
        loss: task.lossName,
        initialDepth: median,
        resize: `${size}×${size}`,
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
 * The constant-median control: the training median everywhere, scored like every depth run (the same batches, so
 * the ground truth is resized to the model's resolution exactly as `evaluateTask` sees it).
 */
async function constantControl(
  context: TaskContext,
  backbone: BackboneInfo,
  evalSet: DepthDataset,
  evalItems: readonly number[],
  median: number,
  trainItems: number,
): Promise<TaskOutput> {
  const started = performance.now();
  const config = await backboneConfig(backbone);
  const predicted: Matrix[] = [];
  const truth: Matrix[] = [];
  const batches = tensorBatches(evalSet, config, {
    batchSize: context.preset.batchSize,
    indices: evalItems,
    depthRange: context.preset.depth.range,
  });
  for await (const batch of batches) {
    if (batch.kind !== "depth") continue;
    const [n, h, w] = batch.depths.shape;
    for (let i = 0; i < n; i++) {
      truth.push({ rows: h, cols: w, data: batch.depthValues.slice(i * h * w, (i + 1) * h * w) });
      predicted.push({ rows: h, cols: w, data: new Float32Array(h * w).fill(median) });
    }
    disposeTensors(batch);
  }
  const [minDepth, maxDepth] = context.preset.depth.range;
  const scores = depthMetrics(predicted, truth, { minDepth, maxDepth });
  return {
    metrics: { ...depthColumns(scores), paramsTunedPct: 0 },
    curve: [],
    extra: { trainItems, steps: 0, evalExamples: evalItems.length, median },
    trainSeconds: 0,
    evalSeconds: (performance.now() - started) / 1000,
  };
}

/** The 4.4 table's depth columns of a score. */
function depthColumns(scores: DepthMetrics): Record<string, number> {
  const { rmse, absRel, delta1, delta2, delta3 } = scores;
  return { rmse, absRel, delta1, delta2, delta3 };
}
