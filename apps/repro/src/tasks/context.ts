import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type ClassificationDataset,
  type DepthDataset,
  loadBatch,
  shuffledIndices,
  stratifiedSubset,
} from "@kora/datasets";
import { openDataset } from "@kora/datasets/node";
import { KoraError, parseAdapterSpec } from "@kora/spec";
import {
  type AdapterHandle,
  adamW,
  applyAdapters,
  crossEntropy,
  getAdapterHandle,
  train,
  warmupCosineSchedule,
} from "@kora/tfjs";
import { ClassificationHead, createViT, type ViT, type ViTConfig } from "@kora/vit";
import { loadViT } from "@kora/vit/node";
import * as tf from "@tensorflow/tfjs";
import type { ClassificationData, Preset } from "../config/presets";
import type { TrainingMethod } from "../config/schema";
import { loadVariables, modelVariables, saveVariables } from "./state";

/** What every task receives. */
export interface TaskContext {
  preset: Preset;
  /** Results folder. */
  out: string;
  /** Cache folder (pretrained backbones). */
  cacheDir: string;
  /** Progress within the current run (optimizer steps done / total). */
  onProgress: (done: number, total: number) => void;
  /** A line for the log. */
  log: (line: string) => void;
}

/** A classification batch: NHWC pixels and integer labels. */
export interface ClassBatch {
  x: tf.Tensor4D;
  labels: Int32Array;
}

/** Stable short hash of a JSON value. */
export function hashOf(value: unknown, length = 12): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, length);
}

const datasetCache = new Map<string, Promise<ClassificationDataset | DepthDataset>>();

/** Opens (once per process) a split of a classification dataset of the preset. */
export function openClassification(
  data: ClassificationData,
  split: "train" | "test" | "val",
): Promise<ClassificationDataset> {
  const options: Record<string, unknown> = { split };
  if (data.root !== undefined) options["root"] = data.root;
  if (data.trainSize !== undefined) options["trainSize"] = data.trainSize;
  if (data.testSize !== undefined) options["testSize"] = data.testSize;
  const key = JSON.stringify([data.dataset, options]);
  let found = datasetCache.get(key);
  if (found === undefined) {
    found = openDataset(data.dataset, options) as Promise<ClassificationDataset>;
    datasetCache.set(key, found);
  }
  return found as Promise<ClassificationDataset>;
}

/** Opens (once per process) a split of the preset's depth dataset. */
export function openDepth(preset: Preset, split: "train" | "test"): Promise<DepthDataset> {
  const { depth } = preset;
  const options: Record<string, unknown> = { split };
  if (depth.root !== undefined) options["root"] = depth.root;
  if (depth.trainSize !== undefined) options["trainSize"] = depth.trainSize;
  if (depth.testSize !== undefined) options["testSize"] = depth.testSize;
  const key = JSON.stringify([depth.dataset, options]);
  let found = datasetCache.get(key);
  if (found === undefined) {
    found = openDataset(depth.dataset, options) as Promise<DepthDataset>;
    datasetCache.set(key, found);
  }
  return found as Promise<DepthDataset>;
}

/** The fixed evaluation items of a classification split: the whole split, or a class-stratified subset. */
export function evaluationIndices(dataset: ClassificationDataset, size: number | null): number[] {
  if (size === null || size >= dataset.size) return Array.from({ length: dataset.size }, (_, i) => i);
  return stratifiedSubset(dataset, { fraction: size / dataset.size, seed: 0 });
}

/** A fixed seeded choice of `count` items (the same for every seed and method), or all of them. */
export function fixedItems(size: number, count: number | null, salt: string): number[] {
  if (count === null || count >= size) return Array.from({ length: size }, (_, i) => i);
  return Array.from(shuffledIndices(size, hashSeedString(salt)).slice(0, count)).sort((a, b) => a - b);
}

function hashSeedString(text: string): number {
  return createHash("sha256").update(text).digest().readUInt32LE(0);
}

/** Loads one classification batch as tensors in the model's input format. */
export function classBatch(
  dataset: ClassificationDataset,
  indices: ArrayLike<number>,
  config: ViTConfig,
  labels?: Int32Array,
): ClassBatch {
  const batch = loadBatch(dataset, indices, {
    batchSize: indices.length,
    size: [config.imageSize, config.imageSize],
    channels: config.channels as 1 | 3,
    normalize: { mean: config.imageMean, std: config.imageStd },
  });
  return { x: tf.tensor4d(batch.images, batch.shape), labels: labels ?? batch.labels };
}

/** Splits `items` into consecutive batches of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Cross-entropy of logits against a batch's integer labels. */
export function classificationLoss(output: tf.Tensor, batch: ClassBatch): tf.Scalar {
  return crossEntropy(output, batch.labels);
}

/** Linear warmup over 10 % of the steps (none for runs under 10 steps), then cosine decay to 0. */
export function schedule(steps: number) {
  const warmupSteps = steps >= 10 ? Math.round(steps * 0.1) : 0;
  return warmupCosineSchedule({ warmupSteps, totalSteps: Math.max(steps, warmupSteps + 1) });
}

/** The backbone's config with the pretraining head. */
function pretrainConfigKey(preset: Preset): unknown {
  return { model: preset.model, backbone: preset.backbone, version: 1 };
}

/** Result of {@link ensureBackbone}: where the weights are and what it took. */
export interface BackboneInfo {
  path: string;
  hash: string;
  cached: boolean;
  seconds: number;
  /** Accuracy of the pretraining head on 500 held-out pretraining images (synthetic backbones only). */
  pretrainAccuracy: number | null;
  description: string;
}

/**
 * The pretrained backbone of the preset: pretrained on synthetic-pretrain and cached under
 * `cacheDir/backbone-<config hash>.safetensors` (a second run skips the pretraining), or the `--weights` file.
 */
export async function ensureBackbone(context: TaskContext): Promise<BackboneInfo> {
  const { preset, cacheDir } = context;
  const source = preset.backbone;
  if (source.kind === "weights") {
    return {
      path: source.path,
      hash: hashOf(source.path),
      cached: true,
      seconds: 0,
      pretrainAccuracy: null,
      description: `weights from ${source.path}`,
    };
  }
  const hash = hashOf(pretrainConfigKey(preset));
  const path = join(cacheDir, `backbone-${hash}.safetensors`);
  const infoPath = join(cacheDir, `backbone-${hash}.json`);
  const labels = source.labels === "shape" ? ", 10 shape labels" : "";
  const init = source.init === "lecun" ? ", LeCun init" : "";
  const description = `pretrained here on ${source.dataset} (${source.steps} steps × ${source.batchSize}, lr ${source.learningRate}${labels}${init})`;
  if (existsSync(path) && existsSync(infoPath)) {
    const info = JSON.parse(readFileSync(infoPath, "utf8")) as {
      seconds: number;
      pretrainAccuracy: number | null;
    };
    context.log(`backbone: cached ${path}`);
    return {
      path,
      hash,
      cached: true,
      seconds: info.seconds,
      pretrainAccuracy: info.pretrainAccuracy,
      description,
    };
  }
  context.log(`backbone: pretraining on ${source.dataset} (${source.steps} steps), cached as ${path}`);
  const started = performance.now();
  const vit = createViT(preset.model, { seed: 0 });
  try {
    const config = vit.config;
    if (source.init === "lecun") lecunInit(vit);
    const shapes = source.labels === "shape";
    if (shapes && config.numClasses !== 10) {
      throw new KoraError({
        code: "INVALID_ARGUMENT",
        message: `backbone.labels "shape" needs a 10-class pretraining head, got numClasses ${config.numClasses}`,
      });
    }
    // Pretraining labels are global class ids (shape × 10 + texture); "shape" keeps the shape.
    const relabel = (batch: ClassBatch): ClassBatch =>
      shapes ? { x: batch.x, labels: Int32Array.from(batch.labels, (l) => Math.floor(l / 10)) } : batch;
    const trainSet = await openDataset("synthetic-pretrain", {
      split: "train",
      trainSize: source.trainSize,
      testSize: 500,
    });
    const testSet = await openDataset("synthetic-pretrain", {
      split: "test",
      trainSize: source.trainSize,
      testSize: 500,
    });
    const n = trainSet.size;
    const optimizer = adamW({ learningRate: source.learningRate, weightDecay: 0.05 });
    const perEpoch = Math.floor(n / source.batchSize);
    await train<ClassBatch>({
      model: (batch, ctx) =>
        vit.forward(batch.x, { format: "NHWC", training: ctx.training }).logits as tf.Tensor,
      variables: Object.fromEntries(modelVariables(vit)),
      data: (ctx) => {
        const order = shuffledIndices(n, ctx.seed);
        return (function* () {
          for (let b = 0; b < perEpoch; b++) {
            yield relabel(
              classBatch(trainSet, order.subarray(b * source.batchSize, (b + 1) * source.batchSize), config),
            );
          }
        })();
      },
      loss: classificationLoss,
      optimizer,
      schedule: schedule(source.steps),
      steps: source.steps,
      clipGradientNorm: 1,
      seed: 0,
      onStep: (event) => context.onProgress(event.step, source.steps),
    });
    optimizer.dispose();
    const accuracy = await classificationAccuracy(
      vit,
      testSet,
      Array.from({ length: testSet.size }, (_, i) => i),
      preset.batchSize,
      shapes ? 10 : 1,
    );
    saveVariables(path, modelVariables(vit));
    const seconds = (performance.now() - started) / 1000;
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(
      infoPath,
      `${JSON.stringify({ seconds, pretrainAccuracy: accuracy, config: pretrainConfigKey(preset) }, null, 2)}\n`,
    );
    context.log(
      `backbone: pretrained in ${seconds.toFixed(1)} s, held-out accuracy ${(accuracy * 100).toFixed(1)} %`,
    );
    return { path, hash, cached: false, seconds, pretrainAccuracy: accuracy, description };
  } finally {
    vit.dispose();
  }
}

/** Re-draws every weight matrix (patch embedding, attention, MLP, head) as N(0, 1/fan_in) truncated at 2σ. */
function lecunInit(vit: ViT): void {
  let counter = 0;
  for (const { name, variable } of vit.namedParameters()) {
    if (variable.shape.length !== 2 || name.includes("layernorm")) continue;
    const [fanIn, fanOut] = variable.shape as [number, number];
    if (name.startsWith("vit.embeddings.") && !name.includes("patch_embeddings")) continue;
    const std = 1 / Math.sqrt(fanIn);
    tf.tidy(() => variable.assign(tf.truncatedNormal([fanIn, fanOut], 0, std, "float32", 9973 + counter++)));
  }
}

async function classificationAccuracy(
  vit: ViT,
  dataset: ClassificationDataset,
  indices: number[],
  batchSize: number,
  /** Compare predictions with `floor(label / labelDivisor)` (10: the pretraining "shape" labels). */
  labelDivisor = 1,
): Promise<number> {
  let hits = 0;
  for (const part of chunks(indices, batchSize)) {
    const batch = classBatch(dataset, part, vit.config);
    const predictions = tf.tidy(() =>
      (vit.forward(batch.x, { format: "NHWC" }).logits as tf.Tensor).argMax(-1),
    );
    const values = await predictions.data();
    predictions.dispose();
    batch.x.dispose();
    values.forEach((p, i) => {
      if (p === Math.floor((batch.labels[i] as number) / labelDivisor)) hits++;
    });
  }
  return hits / indices.length;
}

/** A freshly built model for a run: the pretrained backbone, the method's adapter, and a head. */
export interface RunModel {
  vit: ViT;
  handle: AdapterHandle | null;
  method: TrainingMethod;
}

/** Loads the pretrained backbone into a new ViT (its pretraining head is replaced by `numClasses` outputs). */
export async function loadBackbone(
  context: TaskContext,
  backbone: BackboneInfo,
  seed: number,
  numClasses: number,
): Promise<ViT> {
  const { preset } = context;
  let vit: ViT;
  if (preset.backbone.kind === "weights") {
    vit = await loadViT(preset.backbone.path, undefined, { numClasses, seed });
  } else {
    vit = createViT(preset.model, { seed });
    loadVariables(backbone.path, modelVariables(vit), (name) => !name.startsWith("classifier."));
    vit.setHead(new ClassificationHead(vit.config.dim, numClasses, { seed: seed * 31 + 7 }));
  }
  return vit;
}

/** Builds the run's model: backbone + (adapter | frozen backbone | everything trainable) + classification head. */
export async function buildModel(
  context: TaskContext,
  backbone: BackboneInfo,
  method: TrainingMethod,
  seed: number,
  numClasses: number,
): Promise<RunModel> {
  const vit = await loadBackbone(context, backbone, seed, numClasses);
  let handle: AdapterHandle | null = null;
  if (method.kind === "adapter") {
    handle = applyAdapters(vit, parseAdapterSpec(method.adapter), { seed });
  } else if (method.kind === "head-only") {
    vit.setBackboneTrainable(false);
  } else {
    vit.setBackboneTrainable(true);
  }
  return { vit, handle, method };
}

/** The variables that train in this run, under stable names (for checkpoints): trainable adapter tensors, head, and the backbone for full fine-tuning. */
export function trainingVariables(model: RunModel): Record<string, tf.Variable> {
  const out: Record<string, tf.Variable> = {};
  for (const [name, variable] of modelVariables(model.vit)) {
    if (variable.trainable) out[name] = variable;
  }
  return out;
}

/** Re-reads the handle (adapters may have been applied by {@link buildModel}). */
export function handleOf(vit: ViT): AdapterHandle | null {
  return getAdapterHandle(vit) ?? null;
}
