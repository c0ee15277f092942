import { rmSync } from "node:fs";
import type { ClassificationDataset } from "@kora/datasets";
import {
  blockFeatures,
  classificationTask,
  disposeModel,
  evaluatePixelProbe,
  evaluateTask,
  trainPixelProbe,
} from "@kora/finetune";
import { saveModel } from "@kora/finetune/node";
import { linearCKA, type Matrix } from "@kora/metrics";
import { type BackboneInfo, backboneConfig } from "./backbone";
import { evaluationIndices, openClassification, seededItems, type TaskContext } from "./context";
import { artifactDir, buildModel, checkpointDir, gateRecord, paramsTunedPct } from "./model";
import { pretrainedFeatures } from "./reference-features";
import { trainRun } from "./training";
import type { RunRequest, TaskOutput } from "./types";

/** Optimizer steps of a source run over `items` training items. */
export function sourceSteps(context: TaskContext, items: number): number {
  const { source, batchSize } = context.preset;
  if (source.steps !== undefined) return source.steps;
  return (source.epochs ?? 1) * Math.ceil(items / batchSize);
}

/** 4.1 (and ablations, controls): adapt on the source task; leaves the model for transfer and CKA runs. */
export async function runSource(
  context: TaskContext,
  backbone: BackboneInfo,
  request: RunRequest,
): Promise<TaskOutput> {
  const { preset, out } = context;
  const trainSet = await openClassification(preset.source, "train");
  const evalSet = await openClassification(preset.source, preset.source.evalSplit);
  const items = seededItems(trainSet, preset.source.trainItems, request.seed, "source-items");
  const evalItems = evaluationIndices(evalSet, preset.source.evalSize);
  const task = classificationTask({ classes: trainSet.classes.length });
  if (request.method.kind === "pixel-probe")
    return runPixelProbe(context, backbone, request, { trainSet, evalSet, items, evalItems });
  const model = await buildModel(backbone, request.method, request.seed, task);
  try {
    const steps = sourceSteps(context, items.length);
    const learningRate =
      request.method.kind === "full" ? preset.source.fullLearningRate : preset.source.learningRate;
    const headLearningRate = request.method.kind === "full" ? preset.source.fullHeadLearningRate : undefined;
    const trained = await trainRun(context, request, model.vit, task, {
      dataset: trainSet,
      items,
      steps,
      learningRate,
      gateLearningRateMultiplier: request.training?.gateLearningRateMultiplier,
      headLearningRate,
    });
    const evalStarted = performance.now();
    const evaluation = { batchSize: preset.batchSize, indices: evalItems };
    const evaluated = await evaluateTask(model.vit, task, evalSet, evaluation);
    let accuracyDisabled: number | null = null;
    if (model.handle !== null) {
      model.handle.disableAdapters();
      accuracyDisabled = (await evaluateTask(model.vit, task, evalSet, evaluation)).accuracy * 100;
      model.handle.enableAdapters();
    }
    const ckaItems = evalItems.slice(0, preset.ckaExamples);
    const reference = await pretrainedFeatures(context, backbone, evalSet, ckaItems);
    const adapted = await blockFeatures(model.vit, evalSet, {
      batchSize: preset.batchSize,
      indices: ckaItems,
    });
    // Where each learnable gate ended and its path (KoRA and the gated twins; empty otherwise).
    const gates = gateRecord(model.vit, trained);
    const perBlock = adapted.map((features, block) => linearCKA(features, reference[block] as Matrix));
    await saveModel(model.vit, artifactDir(out, request.key), { metadata: { run: request.key } });
    rmSync(checkpointDir(out, request.key), { recursive: true, force: true });
    return {
      metrics: {
        paramsTunedPct: paramsTunedPct(request.method, model.vit),
        ckaSim: perBlock.reduce((a, b) => a + b, 0) / perBlock.length,
        accuracy: evaluated.accuracy * 100,
        macroF1: evaluated.macroF1,
        accuracyDisabled,
      },
      curve: trained.curve,
      extra: {
        trainItems: items.length,
        steps,
        learningRate,
        headLearningRate: headLearningRate ?? learningRate,
        evalExamples: evaluated.examples,
        ckaExamples: ckaItems.length,
        ckaPerBlock: perBlock,
        ...gates,
        classes: trainSet.classes.length,
        chance: 100 / trainSet.classes.length,
      },
      trainSeconds: trained.seconds,
      evalSeconds: (performance.now() - evalStarted) / 1000,
    };
  } finally {
    disposeModel(model.vit);
  }
}

/** The pixel linear probe on the source task: the same items, steps, batches and recipe, no backbone. */
async function runPixelProbe(
  context: TaskContext,
  backbone: BackboneInfo,
  request: RunRequest,
  data: {
    trainSet: ClassificationDataset;
    evalSet: ClassificationDataset;
    items: number[];
    evalItems: number[];
  },
): Promise<TaskOutput> {
  const { preset } = context;
  const { trainSet, evalSet, items, evalItems } = data;
  const config = await backboneConfig(backbone);
  const steps = sourceSteps(context, items.length);
  const started = performance.now();
  const probe = await trainPixelProbe({
    config,
    dataset: trainSet,
    indices: items,
    batchSize: preset.batchSize,
    steps,
    learningRate: preset.source.learningRate,
    seed: request.seed,
  });
  try {
    const trainSeconds = (performance.now() - started) / 1000;
    context.onProgress(steps, steps);
    const evalStarted = performance.now();
    const scores = await evaluatePixelProbe(probe, config, evalSet, {
      batchSize: preset.batchSize,
      indices: evalItems,
    });
    return {
      metrics: { accuracy: scores.accuracy * 100, macroF1: scores.macroF1, paramsTunedPct: null },
      curve: [],
      extra: {
        trainItems: items.length,
        steps,
        learningRate: preset.source.learningRate,
        evalExamples: scores.examples,
        classes: trainSet.classes.length,
        chance: 100 / trainSet.classes.length,
        inputs: probe.inputs,
      },
      trainSeconds,
      evalSeconds: (performance.now() - evalStarted) / 1000,
    };
  } finally {
    probe.dispose();
  }
}
