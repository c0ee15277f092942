import { rmSync } from "node:fs";
import { depthTask, disposeModel, evaluateTask } from "@kora/finetune";
import { saveModel } from "@kora/finetune/node";
import type { BackboneInfo } from "./backbone";
import { fixedItems, openDepth, type TaskContext } from "./context";
import { artifactDir, buildModel, checkpointDir } from "./model";
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
  const task = depthTask({ range: preset.depth.range });
  const model = await buildModel(backbone, request.method, request.seed, task);
  try {
    const steps = denseSteps(context, items.length);
    const trained = await trainRun(context, request, model.vit, task, {
      dataset: trainSet,
      items,
      steps,
      learningRate: preset.depth.learningRate,
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
      metrics: {
        rmse: scores.rmse,
        absRel: scores.absRel,
        delta1: scores.delta1,
        delta2: scores.delta2,
        delta3: scores.delta3,
        paramsTunedPct: null,
      },
      curve: trained.curve,
      extra: {
        trainItems: items.length,
        steps,
        evalExamples: scores.examples,
        loss: task.lossName,
        resize: `${size}×${size}`,
      },
      trainSeconds: trained.seconds,
      evalSeconds: (performance.now() - evalStarted) / 1000,
    };
  } finally {
    disposeModel(model.vit);
  }
}
