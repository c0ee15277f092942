import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { ClassificationDataset, DepthDataset } from "@kora/datasets";
import { loadBatch, stratifiedSubset } from "@kora/datasets";
import { accuracy, ckaMatrix, depthMetrics, f1Score, linearCKA, type Matrix } from "@kora/metrics";
import { countParameters, KoraError, parseAdapterSpec } from "@kora/spec";
import { adamW, evaluate, SeededRandom, type StepEvent, train } from "@kora/tfjs";
import { ClassificationHead, DepthHead, type ViT } from "@kora/vit";
import * as tf from "@tensorflow/tfjs";
import type { TaskName, TrainingMethod } from "../config/schema";
import {
  type BackboneInfo,
  buildModel,
  type ClassBatch,
  chunks,
  classBatch,
  classificationLoss,
  evaluationIndices,
  fixedItems,
  loadBackbone,
  openClassification,
  openDepth,
  type RunModel,
  schedule,
  type TaskContext,
  trainingVariables,
} from "./context";
import { loadVariables, modelVariables, saveVariables } from "./state";

/** One point of a training curve. */
export interface CurvePoint {
  step: number;
  loss: number;
}

/** What a task returns (the runner adds identity, timings and provenance). */
export interface TaskOutput {
  metrics: Record<string, number | null>;
  curve: CurvePoint[];
  /** Task-specific data (CKA matrices, chance level, subset sizes). */
  extra: Record<string, unknown>;
  trainSeconds: number;
  evalSeconds: number;
}

/** A run as the tasks see it. */
export interface RunRequest {
  key: string;
  task: TaskName;
  method: TrainingMethod;
  seed: number;
  shuffleLabels: boolean;
  /** For transfer / cka: the key of the source run whose weights are loaded. */
  sourceKey: string | null;
}

/** Where a source run leaves its trained weights for transfer / CKA runs. */
export function artifactPath(out: string, sourceKey: string): string {
  return join(out, "artifacts", `${sourceKey}.safetensors`);
}

function checkpointDir(out: string, key: string): string {
  return join(out, "checkpoints", key);
}

/**
 * The `train()` options every harness run shares: the warmup-cosine schedule, clipping, the run's seed, a
 * resumable checkpoint folder per run, and progress + loss-curve reporting.
 */
function runTrainingOptions(context: TaskContext, request: RunRequest, steps: number, curve: CurvePoint[]) {
  return {
    schedule: schedule(steps),
    steps,
    clipGradientNorm: 1,
    seed: request.seed,
    checkpoint: {
      dir: checkpointDir(context.out, request.key),
      everySteps: Math.max(5, Math.ceil(steps / 4)),
      keepLast: 1,
    },
    onStep: (event: StepEvent) => {
      curve.push({ step: event.step, loss: event.loss });
      context.onProgress(event.step, steps);
    },
  };
}

/** Parameters tuned (%) as peft prints it: trainable ÷ all parameters of the adapted model. */
function paramsTunedPct(method: TrainingMethod, vit: ViT): number {
  const shape = vit.backboneShape;
  const spec = method.kind === "adapter" ? parseAdapterSpec(method.adapter) : null;
  const count = countParameters(spec, shape, { trainHead: true, trainBackbone: method.kind === "full" });
  return count.trainableFraction * 100;
}

interface Trained {
  curve: CurvePoint[];
  seconds: number;
}

/** Trains the model's trainable variables on classification batches (checkpointed, resumable). */
async function trainClassifier(
  context: TaskContext,
  request: RunRequest,
  model: RunModel,
  dataset: ClassificationDataset,
  items: number[],
  labels: Int32Array | null,
  steps: number,
  learningRate: number,
): Promise<Trained> {
  const { preset } = context;
  const batchSize = preset.batchSize;
  const config = model.vit.config;
  const curve: CurvePoint[] = [];
  const optimizer = adamW({ learningRate, weightDecay: 0.01 });
  const started = performance.now();
  const perEpoch = Math.ceil(items.length / batchSize);
  try {
    await train<ClassBatch>({
      model: (batch, ctx) =>
        model.vit.forward(batch.x, { format: "NHWC", training: ctx.training }).logits as tf.Tensor,
      variables: trainingVariables(model),
      // The order depends only on the run's seed (ctx.seed), so every method sees the same batches within a seed.
      data: (ctx) => {
        const order = new SeededRandom(ctx.seed).permutation(items.length);
        return (function* () {
          for (let b = 0; b < perEpoch; b++) {
            const positions = Array.from(order.subarray(b * batchSize, (b + 1) * batchSize));
            const indices = positions.map((p) => items[p] as number);
            const batchLabels =
              labels === null ? undefined : Int32Array.from(positions.map((p) => labels[p] as number));
            yield classBatch(dataset, indices, config, batchLabels);
          }
        })();
      },
      loss: classificationLoss,
      optimizer,
      ...runTrainingOptions(context, request, steps, curve),
    });
  } finally {
    optimizer.dispose();
  }
  return { curve, seconds: (performance.now() - started) / 1000 };
}

interface Evaluated {
  accuracy: number;
  macroF1: number;
  examples: number;
}

async function evaluateClassifier(
  vit: ViT,
  dataset: ClassificationDataset,
  items: number[],
  batchSize: number,
): Promise<Evaluated> {
  const config = vit.config;
  const result = await evaluate<ClassBatch>({
    model: (batch) => vit.forward(batch.x, { format: "NHWC" }).logits as tf.Tensor,
    data: chunks(items, batchSize).map((part) => classBatch(dataset, part, config)),
    labels: (batch) => batch.labels,
    keepOutputs: false,
  });
  const labels = result.labels as Int32Array;
  const predictions = result.predictions as Int32Array;
  return {
    accuracy: accuracy(labels, predictions) * 100,
    macroF1: f1Score(labels, predictions, { average: "macro", zeroDivision: 0 }),
    examples: labels.length,
  };
}

/** Hidden states after every block (pooled: mean of the patch tokens), as matrices for CKA. */
async function blockFeatures(
  vit: ViT,
  dataset: ClassificationDataset,
  items: number[],
  batchSize: number,
): Promise<Matrix[]> {
  const config = vit.config;
  const depth = config.depth;
  const parts: Float32Array[][] = Array.from({ length: depth }, () => []);
  for (const part of chunks(items, batchSize)) {
    const batch = classBatch(dataset, part, config);
    const states = vit.features(batch.x, { format: "NHWC", pool: "mean" });
    batch.x.dispose();
    for (let block = 0; block < depth; block++) {
      const state = states[block + 1] as tf.Tensor;
      (parts[block] as Float32Array[]).push(Float32Array.from(await state.data()));
    }
    tf.dispose(states);
  }
  return parts.map((chunksOfBlock) => {
    const data = new Float32Array(chunksOfBlock.reduce((n, c) => n + c.length, 0));
    let offset = 0;
    for (const c of chunksOfBlock) {
      data.set(c, offset);
      offset += c.length;
    }
    return { rows: items.length, cols: config.dim, data };
  });
}

let referenceFeatures: { key: string; features: Matrix[] } | null = null;

/** Features of the frozen pretrained backbone on the CKA items (computed once per process). */
async function pretrainedFeatures(
  context: TaskContext,
  backbone: BackboneInfo,
  dataset: ClassificationDataset,
  items: number[],
): Promise<Matrix[]> {
  const key = `${backbone.hash}:${dataset.name}:${items.length}:${items[0]}:${items.at(-1)}`;
  if (referenceFeatures?.key === key) return referenceFeatures.features;
  const vit = await loadBackbone(context, backbone, 0, 1);
  try {
    const features = await blockFeatures(vit, dataset, items, context.preset.batchSize);
    referenceFeatures = { key, features };
    return features;
  } finally {
    vit.dispose();
  }
}

function sourceSteps(context: TaskContext, items: number): number {
  const { source, batchSize } = context.preset;
  if (source.steps !== undefined) return source.steps;
  return (source.epochs ?? 1) * Math.ceil(items / batchSize);
}

/** Number of optimizer steps a run will make (for the plan's ETA). */
export function plannedSteps(context: TaskContext, task: TaskName): number {
  const { preset } = context;
  switch (task) {
    case "source":
      return preset.source.steps ?? (preset.source.epochs ?? 1) * 100;
    case "transfer":
      return (
        Math.max(
          1,
          Math.ceil(((preset.target.trainSize ?? 100_000) * preset.target.fraction) / preset.batchSize),
        ) * preset.target.epochs
      );
    case "dense":
      return (
        Math.max(1, Math.ceil(((preset.depth.trainSize ?? 795) * preset.depth.fraction) / preset.batchSize)) *
        preset.depth.epochs
      );
    case "cka":
      return 1;
  }
}

/** 4.1 (and ablations, controls): adapt on the source task; leaves the weights for transfer and CKA runs. */
export async function runSource(
  context: TaskContext,
  backbone: BackboneInfo,
  request: RunRequest,
): Promise<TaskOutput> {
  const { preset, out } = context;
  const trainSet = await openClassification(preset.source, "train");
  const evalSet = await openClassification(preset.source, preset.source.evalSplit);
  const items = fixedItems(trainSet.size, preset.source.trainItems, "source-items");
  const evalItems = evaluationIndices(evalSet, preset.source.evalSize);
  const model = await buildModel(context, backbone, request.method, request.seed, trainSet.classes.length);
  try {
    const steps = sourceSteps(context, items.length);
    const learningRate =
      request.method.kind === "full" ? preset.source.fullLearningRate : preset.source.learningRate;
    const trained = await trainClassifier(
      context,
      request,
      model,
      trainSet,
      items,
      null,
      steps,
      learningRate,
    );
    const evalStarted = performance.now();
    const evaluated = await evaluateClassifier(model.vit, evalSet, evalItems, preset.batchSize);
    let accuracyDisabled: number | null = null;
    if (model.handle !== null) {
      model.handle.disableAdapters();
      accuracyDisabled = (await evaluateClassifier(model.vit, evalSet, evalItems, preset.batchSize)).accuracy;
      model.handle.enableAdapters();
    }
    const ckaItems = evalItems.slice(0, preset.ckaExamples);
    const reference = await pretrainedFeatures(context, backbone, evalSet, ckaItems);
    const adapted = await blockFeatures(model.vit, evalSet, ckaItems, preset.batchSize);
    const perBlock = adapted.map((features, block) => linearCKA(features, reference[block] as Matrix));
    saveVariables(artifactPath(out, request.key), modelVariables(model.vit));
    rmSync(checkpointDir(out, request.key), { recursive: true, force: true });
    return {
      metrics: {
        paramsTunedPct: paramsTunedPct(request.method, model.vit),
        ckaSim: perBlock.reduce((a, b) => a + b, 0) / perBlock.length,
        accuracy: evaluated.accuracy,
        macroF1: evaluated.macroF1,
        accuracyDisabled,
      },
      curve: trained.curve,
      extra: {
        trainItems: items.length,
        steps,
        learningRate,
        evalExamples: evaluated.examples,
        ckaExamples: ckaItems.length,
        ckaPerBlock: perBlock,
        classes: trainSet.classes.length,
        chance: 100 / trainSet.classes.length,
      },
      trainSeconds: trained.seconds,
      evalSeconds: (performance.now() - evalStarted) / 1000,
    };
  } finally {
    model.vit.dispose();
  }
}

/** Rebuilds the trained source model of `sourceKey` (same method and seed). */
async function loadSourceModel(
  context: TaskContext,
  backbone: BackboneInfo,
  request: RunRequest,
): Promise<RunModel> {
  if (request.sourceKey === null) throw new KoraError({ code: "INVALID_ARGUMENT", message: "no source run" });
  const path = artifactPath(context.out, request.sourceKey);
  if (!existsSync(path)) {
    throw new KoraError({
      code: "FILE_NOT_FOUND",
      message: `the source model ${path} is missing (its run failed or was removed)`,
    });
  }
  const sourceClasses = (await openClassification(context.preset.source, "train")).classes.length;
  const model = await buildModel(context, backbone, request.method, request.seed, sourceClasses);
  loadVariables(path, modelVariables(model.vit));
  return model;
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
  const model = await loadSourceModel(context, backbone, request);
  try {
    model.vit.setHead(
      new ClassificationHead(model.vit.config.dim, trainSet.classes.length, { seed: request.seed * 31 + 11 }),
    );
    let labels: Int32Array | null = null;
    if (request.shuffleLabels) {
      const original = items.map((i) => trainSet.label(i));
      const permutation = new SeededRandom(request.seed * 7919 + 17).permutation(items.length);
      labels = Int32Array.from(permutation, (p) => original[p] as number);
    }
    const steps = Math.ceil(items.length / preset.batchSize) * preset.target.epochs;
    const learningRate =
      request.method.kind === "full" ? preset.source.fullLearningRate : preset.target.learningRate;
    const trained = await trainClassifier(
      context,
      request,
      model,
      trainSet,
      items,
      labels,
      steps,
      learningRate,
    );
    const evalStarted = performance.now();
    const evaluated = await evaluateClassifier(model.vit, evalSet, evalItems, preset.batchSize);
    rmSync(checkpointDir(out, request.key), { recursive: true, force: true });
    const chance = 100 / trainSet.classes.length;
    return {
      metrics: {
        accuracy: evaluated.accuracy,
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
        chance,
        shuffledLabels: request.shuffleLabels,
      },
      trainSeconds: trained.seconds,
      evalSeconds: (performance.now() - evalStarted) / 1000,
    };
  } finally {
    model.vit.dispose();
  }
}

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
  const model = await loadSourceModel(context, backbone, request);
  try {
    const started = performance.now();
    const features = await blockFeatures(model.vit, evalSet, ckaItems, preset.batchSize);
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
    model.vit.dispose();
  }
}

interface DepthTensors {
  x: tf.Tensor4D;
  logDepth: tf.Tensor4D;
  mask: tf.Tensor4D;
  depths: Float32Array;
  maskValues: Uint8Array;
}

/** 4.4: a depth head on the adapted backbone; adapters + head trained on 1 % of the depth train split. */
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
  const model = await buildModel(context, backbone, request.method, request.seed, 1);
  const vit = model.vit;
  const config = vit.config;
  vit.setHead(
    new DepthHead(
      { dim: config.dim, patchSize: config.patchSize, imageSize: config.imageSize },
      { seed: request.seed * 31 + 13 },
    ),
  );
  const size = config.imageSize;
  const [minDepth, maxDepth] = preset.depth.range;
  const load = (dataset: DepthDataset, indices: number[]): DepthTensors => {
    const batch = loadBatch(dataset, indices, {
      batchSize: indices.length,
      size: [size, size],
      channels: config.channels as 1 | 3,
      normalize: { mean: config.imageMean, std: config.imageStd },
      depthRange: [minDepth, maxDepth],
    });
    const n = indices.length;
    const logs = new Float32Array(batch.depths.length);
    for (let i = 0; i < logs.length; i++) logs[i] = batch.mask[i] ? Math.log(batch.depths[i] as number) : 0;
    return {
      x: tf.tensor4d(batch.images, batch.shape),
      logDepth: tf.tensor4d(logs, [n, size, size, 1]),
      mask: tf.tensor4d(Float32Array.from(batch.mask), [n, size, size, 1]),
      depths: batch.depths,
      maskValues: batch.mask,
    };
  };
  try {
    const batchSize = preset.batchSize;
    const perEpoch = Math.ceil(items.length / batchSize);
    const steps = perEpoch * preset.depth.epochs;
    const curve: CurvePoint[] = [];
    const optimizer = adamW({ learningRate: preset.depth.learningRate, weightDecay: 0.01 });
    const trainStarted = performance.now();
    try {
      await train<DepthTensors>({
        model: (batch, ctx) =>
          vit.forward(batch.x, { format: "NHWC", training: ctx.training }).depth as tf.Tensor,
        variables: trainingVariables(model),
        data: (ctx) => {
          const order = new SeededRandom(ctx.seed).permutation(items.length);
          return (function* () {
            for (let b = 0; b < perEpoch; b++) {
              yield load(
                trainSet,
                Array.from(order.subarray(b * batchSize, (b + 1) * batchSize), (p) => items[p] as number),
              );
            }
          })();
        },
        // L1 on log depth over valid pixels; the prediction is exp(output) metres.
        loss: (output, batch) =>
          tf.tidy(() =>
            tf.div(
              tf.sum(tf.mul(tf.abs(tf.sub(output, batch.logDepth)), batch.mask)),
              tf.maximum(tf.sum(batch.mask), 1),
            ),
          ) as tf.Scalar,
        optimizer,
        ...runTrainingOptions(context, request, steps, curve),
      });
    } finally {
      optimizer.dispose();
    }
    const trainSeconds = (performance.now() - trainStarted) / 1000;
    const evalStarted = performance.now();
    const predictions: Matrix[] = [];
    const truths: Matrix[] = [];
    for (const part of chunks(evalItems, batchSize)) {
      const batch = load(evalSet, part);
      const depth = tf.tidy(() => tf.exp(vit.forward(batch.x, { format: "NHWC" }).depth as tf.Tensor));
      const values = Float32Array.from(await depth.data());
      tf.dispose([depth, batch.x, batch.logDepth, batch.mask]);
      const pixels = size * size;
      for (let k = 0; k < part.length; k++) {
        predictions.push({ rows: size, cols: size, data: values.subarray(k * pixels, (k + 1) * pixels) });
        truths.push({ rows: size, cols: size, data: batch.depths.subarray(k * pixels, (k + 1) * pixels) });
      }
    }
    const scores = depthMetrics(predictions, truths, { minDepth, maxDepth });
    rmSync(checkpointDir(out, request.key), { recursive: true, force: true });
    return {
      metrics: {
        rmse: scores.rmse,
        absRel: scores.absRel,
        delta1: scores.delta1,
        delta2: scores.delta2,
        delta3: scores.delta3,
        paramsTunedPct: null,
      },
      curve,
      extra: {
        trainItems: items.length,
        steps,
        evalExamples: evalItems.length,
        loss: "L1 on log depth",
        resize: `${size}×${size}`,
      },
      trainSeconds,
      evalSeconds: (performance.now() - evalStarted) / 1000,
    };
  } finally {
    vit.dispose();
  }
}
