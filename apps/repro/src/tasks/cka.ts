import { blockFeatures, classificationTask, disposeModel } from "@kora/finetune";
import { ckaMatrix } from "@kora/metrics";
import type { BackboneInfo } from "./backbone";
import { evaluationIndices, openClassification, type TaskContext } from "./context";
import { loadSourceModel } from "./model";
import type { RunRequest, TaskOutput } from "./types";

/** Blocks shown in the paper's Figure 2: first, middle, last (0, 6, 11 for 12 blocks). */
export function figureBlocks(depth: number): number[] {
  return [...new Set([0, Math.floor(depth / 2), depth - 1])];
}

/** 4.3: block × block linear CKA of a 4.1 model on the source evaluation set. */
export async function runCka(
  context: TaskContext,
  backbone: BackboneInfo,
  request: RunRequest,
): Promise<TaskOutput> {
  const { preset } = context;
  const evalSet = await openClassification(preset.source, preset.source.evalSplit);
  const ckaItems = evaluationIndices(evalSet, preset.source.evalSize).slice(0, preset.ckaExamples);
  const task = classificationTask({ classes: evalSet.classes.length });
  const model = await loadSourceModel(context.out, backbone, request, task);
  try {
    const started = performance.now();
    const features = await blockFeatures(model.vit, evalSet, {
      batchSize: preset.batchSize,
      indices: ckaItems,
    });
    const all = ckaMatrix(features);
    const blocks = figureBlocks(features.length);
    const selected = blocks.map((i) => blocks.map((j) => (all[i] as number[])[j] as number));
    const last = features.length - 1;
    return {
      metrics: { distantCka: (all[0] as number[])[last] as number },
      curve: [],
      extra: { all, selected, blocks, examples: ckaItems.length, pool: "mean of patch tokens" },
      trainSeconds: 0,
      evalSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    disposeModel(model.vit);
  }
}
