import { rmSync } from "node:fs";
import type { ClassificationDataset } from "@kora/datasets";
import { classificationTask, disposeModel, evaluateTask, headSeed } from "@kora/finetune";
import { hashSeed, SeededRandom } from "@kora/spec";
import type { Preset } from "../config/presets";
import type { BackboneInfo } from "./backbone";
import { evaluationIndices, openClassification, seededItems, type TaskContext } from "./context";
import { buildModel, checkpointDir, gateRecord, loadSourceModel, paramsTunedPct } from "./model";
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

/** The target subset of a seed: exactly `count` items, or `fraction` of the pool, class-stratified, drawn per seed. */
export function targetItems(preset: Preset, trainSet: ClassificationDataset, seed: number): number[] {
  const { count, fraction } = preset.target;
  return seededItems(
    trainSet,
    count ?? Math.max(1, Math.round(trainSet.size * fraction)),
    seed,
    "target-items",
  );
}

/**
 * 4.2: a new head for the target classes, trained on the seed's target subset for the preset's epochs, evaluated
 * on the target evaluation items. By protocol: `source-adapted` continues the source run's adapter (the paper's),
 * `fresh` starts a new adapter (what the source adds is the difference), `upstream` freezes the source adapter and
 * trains the head alone.
 */
export async function runTransfer(
  context: TaskContext,
  backbone: BackboneInfo,
  request: RunRequest,
): Promise<TaskOutput> {
  const { preset, out } = context;
  const trainSet = await openClassification(preset.target, "train");
  const evalSet = await openClassification(preset.target, preset.target.evalSplit);
  const items = targetItems(preset, trainSet, request.seed);
  const evalItems = evaluationIndices(evalSet, preset.target.evalSize);
  const task = classificationTask({ classes: trainSet.classes.length });
  let model: Awaited<ReturnType<typeof buildModel>>;
  if (request.protocol === "fresh") {
    model = await buildModel(backbone, request.method, hashSeed(request.seed, "fresh-target"), task);
  } else {
    const sourceClasses = (await openClassification(preset.source, "train")).classes.length;
    model = await loadSourceModel(out, backbone, request, classificationTask({ classes: sourceClasses }));
  }
  try {
    // A new head for the target classes; the adapter (or the backbone of a full fine-tune) keeps its training.
    model.vit.setHead(task.createHead(model.vit.config, headSeed(hashSeed(request.seed, "transfer"))));
    if (request.protocol === "upstream") {
      // The source adapter (or backbone) stays as the source run left it: only the new head trains.
      model.vit.setBackboneTrainable(false);
      for (const variable of model.handle?.adapterVariables().values() ?? []) variable.trainable = false;
    }
    const labels = request.shuffleLabels
      ? shuffledLabels(
          items.map((i) => trainSet.label(i)),
          request.seed,
        )
      : undefined;
    const steps = Math.ceil(items.length / preset.batchSize) * preset.target.epochs;
    const learningRate =
      request.method.kind === "full" && request.protocol !== "upstream"
        ? preset.source.fullLearningRate
        : preset.target.learningRate;
    const headLearningRate =
      request.method.kind === "full" && request.protocol !== "upstream"
        ? preset.target.fullHeadLearningRate
        : undefined;
    const trained = await trainRun(context, request, model.vit, task, {
      dataset: trainSet,
      items,
      labels,
      steps,
      learningRate,
      gateLearningRateMultiplier: request.training?.gateLearningRateMultiplier,
      headLearningRate,
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
        paramsTunedPct: request.protocol === "upstream" ? null : paramsTunedPct(request.method, model.vit),
      },
      curve: trained.curve,
      extra: {
        trainItems: items.length,
        steps,
        learningRate,
        headLearningRate: headLearningRate ?? learningRate,
        evalExamples: evaluated.examples,
        classes: trainSet.classes.length,
        chance: 100 / trainSet.classes.length,
        shuffledLabels: request.shuffleLabels,
        protocol: request.protocol,
        ...gateRecord(model.vit, trained),
      },
      trainSeconds: trained.seconds,
      evalSeconds: (performance.now() - evalStarted) / 1000,
    };
  } finally {
    disposeModel(model.vit);
  }
}
