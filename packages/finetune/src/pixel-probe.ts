import type { ClassificationDataset } from "@kora/datasets";
import { accuracy, f1Score } from "@kora/metrics";
import { hashSeed } from "@kora/spec";
import { adamW, crossEntropy, train, warmupCosineSchedule } from "@kora/tfjs";
import type { ViTConfig } from "@kora/vit";
import * as tf from "@tensorflow/tfjs";
import { type ClassificationTensorBatch, epochData, tensorBatches } from "./batches";
import { checkInteger, finetuneError } from "./errors";
import type { ClassificationEvaluation } from "./evaluate";

/** What {@link trainPixelProbe} needs. */
export interface PixelProbeOptions {
  /**
   * The model whose input the probe sees: images are resized and normalised exactly as for this ViT (its
   * `imageSize`, `channels`, mean and std), so the probe and the model read the same pixels.
   */
  config: ViTConfig;
  dataset: ClassificationDataset;
  /** Train on these dataset indices only. Default: every item. */
  indices?: ArrayLike<number> | undefined;
  batchSize: number;
  steps: number;
  /** Peak learning rate of AdamW. */
  learningRate: number;
  /** Decoupled weight decay on the weight matrix (not the bias). Default 0.01. */
  weightDecay?: number | undefined;
  /** Linear warm-up steps before the cosine decay. Default 10 % of `steps` (none under 10 steps). */
  warmupSteps?: number | undefined;
  /** Seed of the weights' initialisation and of the data order. */
  seed: number;
}

/** A softmax regression on raw pixels: `logits = flatten(image) · W + b`. */
export interface PixelProbe {
  readonly inputs: number;
  readonly classes: number;
  /** Logits `[B, classes]` of NHWC images. */
  logits(images: tf.Tensor4D): tf.Tensor2D;
  /** Its weight matrix and bias. */
  variables(): { weight: tf.Variable; bias: tf.Variable };
  dispose(): void;
}

// tfjs variable names are global: each probe's get a fresh suffix.
let probes = 0;

function createProbe(inputs: number, classes: number, seed: number): PixelProbe {
  // tf.variable keeps its own copy: the initial values are freed here.
  const initialWeight = tf.truncatedNormal(
    [inputs, classes],
    0,
    1 / Math.sqrt(inputs),
    "float32",
    hashSeed(seed, "pixel-probe"),
  );
  const initialBias = tf.zeros([classes]);
  const weight = tf.variable(initialWeight, true, `pixel_probe_${++probes}.weight`);
  const bias = tf.variable(initialBias, true, `pixel_probe_${probes}.bias`);
  tf.dispose([initialWeight, initialBias]);
  return {
    inputs,
    classes,
    logits: (images) =>
      tf.tidy(() => tf.add(tf.matMul(tf.reshape(images, [images.shape[0], inputs]), weight), bias)),
    variables: () => ({ weight, bias }),
    dispose: () => tf.dispose([weight, bias]),
  };
}

/**
 * The pixel linear probe: the baseline a pretrained backbone has to beat. A softmax regression on the images as the
 * ViT would see them, trained with the same engine, optimizer, schedule, batches and budget as a fine-tuning run
 * (AdamW, warm-up + cosine, clipping at 1, seeded data order). A backbone whose linear probe does not beat this by a
 * margin has learnt nothing the task can use.
 *
 * @throws KoraError `INVALID_ARGUMENT` for a bad number.
 */
export async function trainPixelProbe(options: PixelProbeOptions): Promise<PixelProbe> {
  const { config, dataset } = options;
  checkInteger(options.batchSize, "batchSize", 1);
  checkInteger(options.steps, "steps", 1);
  if (!(options.learningRate > 0)) {
    throw finetuneError(
      "INVALID_ARGUMENT",
      `learningRate must be positive, got ${options.learningRate}`,
      "learningRate",
    );
  }
  const inputs = config.imageSize * config.imageSize * config.channels;
  const probe = createProbe(inputs, dataset.classes.length, options.seed);
  const { weight, bias } = probe.variables();
  const warmup = options.warmupSteps ?? (options.steps >= 10 ? Math.round(options.steps * 0.1) : 0);
  const optimizer = adamW({
    learningRate: options.learningRate,
    weightDecay: options.weightDecay ?? 0.01,
    groups: [{ match: (name) => name === "bias", weightDecay: 0 }],
  });
  try {
    await train<ClassificationTensorBatch>({
      model: (batch) => probe.logits(batch.images),
      variables: { weight, bias },
      data: epochData(dataset, config, {
        batchSize: options.batchSize,
        indices: options.indices,
      }) as never,
      loss: (logits, batch) => crossEntropy(logits, batch.labels),
      optimizer,
      schedule: warmupCosineSchedule({
        warmupSteps: warmup,
        totalSteps: Math.max(options.steps, warmup + 1),
      }),
      steps: options.steps,
      clipGradientNorm: 1,
      seed: options.seed,
    });
    return probe;
  } catch (error) {
    probe.dispose();
    throw error;
  } finally {
    optimizer.dispose();
  }
}

/** Accuracy and macro-F1 of a pixel probe on a dataset (the same scores as `evaluateTask`). */
export async function evaluatePixelProbe(
  probe: PixelProbe,
  config: ViTConfig,
  dataset: ClassificationDataset,
  options: { batchSize: number; indices?: ArrayLike<number> | undefined },
): Promise<Omit<ClassificationEvaluation, "confusionMatrix">> {
  const truth: number[] = [];
  const predicted: number[] = [];
  for await (const batch of tensorBatches(dataset, config, {
    batchSize: options.batchSize,
    indices: options.indices,
  })) {
    if (batch.kind !== "classification")
      throw finetuneError("TASK_MISMATCH", `${dataset.name} is not a classification dataset`);
    try {
      const arg = tf.tidy(() => tf.argMax(probe.logits(batch.images), -1));
      const values = await arg.data();
      arg.dispose();
      const labels = batch.labels.dataSync();
      for (let i = 0; i < labels.length; i++) {
        truth.push(labels[i] as number);
        predicted.push(values[i] as number);
      }
    } finally {
      tf.dispose([batch.images, batch.labels]);
    }
  }
  const t = Int32Array.from(truth);
  const p = Int32Array.from(predicted);
  return {
    task: "classification",
    examples: t.length,
    accuracy: accuracy(t, p),
    macroF1: f1Score(t, p, { average: "macro", zeroDivision: 0 }),
  };
}
