import { rmSync } from "node:fs";
import { stratifiedSubset } from "@kora/datasets";
import { classificationTask, disposeModel, evaluateTask, headSeed } from "@kora/finetune";
import { hashSeed, SeededRandom } from "@kora/spec";
import type { BackboneInfo } from "./backbone";
import { evaluationIndices, openClassification, type TaskContext } from "./context";
import { checkpointDir, loadSourceModel, paramsTunedPct } from "./model";
import { trainRun } from "./training";
import type { RunRequest, TaskOutput } from "./types";

/**
 * The shuffled-labels control: the subset's labels permuted by the run's seed, so a model that still beats chance
 * can only do so through a leak.
 */
export function shuffledLabels(labels: readonly number[], seed: number): Int32Array {
  const permutation = new SeededRandom(hashSeed(seed, "shuffled-labels")).permutation(labels.length);
  return Int32Array.from(permutation, (p) => labels[p] as number);
}

/** 4.2: new head for the target classes, one epoch on the fixed 1 % class-stratified subset, full evaluation. */
export async function runTransfer(
  context: TaskContext,
  backbone: BackboneInfo,
  request: RunRequest,
): Promise<TaskOutput> {
  const { preset, out } = context;
  const trainSet = await openClassification(preset.target, "train");
  const evalSet = await openClassification(preset.target, preset.target.evalSplit);
  const items = stratifiedSubset(trainSet, { fraction: preset.target.fraction, seed: 0 });
  const evalItems = evaluationIndices(evalSet, preset.target.evalSize);
  const sourceClasses = (await openClassification(preset.source, "train")).classes.length;
  const model = await loadSourceModel(out, backbone, request, classificationTask({ classes: sourceClasses }));
  try {
    // A new head for the target classes; the adapter (or the backbone of a full fine-tune) keeps its training.
    const task = classificationTask({ classes: trainSet.classes.length });
    model.vit.setHead(task.createHead(model.vit.config, headSeed(hashSeed(request.seed, "transfer"))));
    const labels = request.shuffleLabels
      ? shuffledLabels(
          items.map((i) => trainSet.label(i)),
          request.seed,
        )
      : undefined;
    const steps = Math.ceil(items.length / preset.batchSize) * preset.target.epochs;
    const learningRate =
      request.method.kind === "full" ? preset.source.fullLearningRate : preset.target.learningRate;
    const trained = await trainRun(context, request, model.vit, task, {
      dataset: trainSet,
      items,
      labels,
      steps,
      learningRate,
    });
    const evalStarted = performance.now();
    const evaluated = await evaluateTask(model.vit, task, evalSet, {
      batchSize: preset.batchSize,
      indices: evalItems,
    });
    rmSync(checkpointDir(out, request.key), { recursive: true, force: true });
    return {
      metrics: {
        accuracy: evaluated.accuracy * 100,
        macroF1: evaluated.macroF1,
        paramsTunedPct: paramsTunedPct(request.method, model.vit),
      },
      curve: trained.curve,
      extra: {
        trainItems: items.length,
        steps,
        learningRate,
        evalExamples: evaluated.examples,
        classes: trainSet.classes.length,
        chance: 100 / trainSet.classes.length,
        shuffledLabels: request.shuffleLabels,
      },
      trainSeconds: trained.seconds,
      evalSeconds: (performance.now() - evalStarted) / 1000,
    };
  } finally {
    disposeModel(model.vit);
  }
}
