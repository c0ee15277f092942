import type { ClassificationDataset } from "@kora/datasets";
import { createViT, type ViT, type ViTConfigInput, type ViTPresetName } from "@kora/vit";
import { finetuneError } from "./errors";
import { type FinetuneOptions, type FinetuneResult, finetune } from "./fit";
import { type InitScheme, initialiseWeights } from "./init";
import { disposeModel, prepareModel } from "./model";
import { classificationTask } from "./tasks/classification";

/** What {@link pretrain} needs: the model's shape, labelled images and the training length. */
export interface PretrainOptions
  extends Pick<
    FinetuneOptions,
    "indices" | "labels" | "batchSize" | "steps" | "epochs" | "checkpoint" | "signal" | "onStep" | "onWarning"
  > {
  /** The ViT to build: a `@kora/vit` preset name or config. Its head gets one output per class of `dataset`. */
  model: ViTPresetName | ViTConfigInput;
  /** Labelled training images (their labels, or `labels`, are the pretraining target). */
  dataset: ClassificationDataset;
  /** Number of classes of the pretraining head. Default: `dataset.classes.length` (or `max(labels) + 1`). */
  classes?: number | undefined;
  /** Peak learning rate of AdamW. Default 1e-3. */
  learningRate?: number | undefined;
  /** AdamW's decoupled weight decay (none on biases, norms and gates). Default 0.05, DeiT's. */
  weightDecay?: number | undefined;
  /** Linear warm-up steps. Default: 10 % of the run's steps. */
  warmupSteps?: number | undefined;
  /** Initialisation of the weight matrices. Default `"lecun"` (a small model trains from it, not from 0.02). */
  init?: InitScheme | undefined;
  /** Seed of the initialisation, the data order and dropout. */
  seed: number;
}

/** What {@link pretrain} returns: the trained model (its head included) and the engine's result. */
export interface PretrainResult extends FinetuneResult {
  vit: ViT;
}

/**
 * Trains a ViT from scratch on a classification task with this project's engine: every weight trains (AdamW,
 * warm-up + cosine, gradient clipping, seeded data order), from a seeded initialisation. The returned model keeps
 * its pretraining head; save it with `saveViT` (`@kora/vit/node`) and use it as a backbone anywhere a Hugging Face
 * checkpoint is accepted. Same options, same weights, bit for bit.
 *
 * @throws KoraError `INVALID_ARGUMENT` for a bad number or a label outside the head.
 */
export async function pretrain(options: PretrainOptions): Promise<PretrainResult> {
  const { dataset } = options;
  let classes = options.classes ?? dataset.classes.length;
  if (options.classes === undefined && options.labels !== undefined) {
    classes = options.labels.reduce((max, label) => Math.max(max, label + 1), 0);
  }
  if (!Number.isInteger(classes) || classes < 2) {
    throw finetuneError("INVALID_ARGUMENT", `classes must be an integer ≥ 2, got ${classes}`, "classes");
  }
  if (options.labels !== undefined) {
    for (let i = 0; i < options.labels.length; i++) {
      const label = options.labels[i] as number;
      if (!(label >= 0 && label < classes)) {
        throw finetuneError(
          "INVALID_ARGUMENT",
          `labels[${i}] is ${label}; a ${classes}-class head needs labels in [0, ${classes})`,
          "labels",
        );
      }
    }
  }
  const config = typeof options.model === "string" ? { preset: options.model } : options.model;
  const vit = createViT({ ...config, numClasses: 0 } as ViTConfigInput, { seed: options.seed });
  try {
    const task = classificationTask({ classes });
    prepareModel(vit, task, { kind: "full" }, options.seed);
    initialiseWeights(vit, options.init ?? "lecun", options.seed);
    const steps = options.steps;
    const warmupSteps =
      options.warmupSteps ?? (steps === undefined ? 0 : Math.max(1, Math.round(steps * 0.1)));
    const result = await finetune({
      vit,
      task,
      dataset,
      indices: options.indices,
      labels: options.labels,
      batchSize: options.batchSize,
      steps,
      epochs: options.epochs,
      learningRate: options.learningRate ?? 1e-3,
      weightDecay: options.weightDecay ?? 0.05,
      warmupSteps,
      seed: options.seed,
      checkpoint: options.checkpoint,
      signal: options.signal,
      onStep: options.onStep,
      onWarning: options.onWarning,
    });
    return { ...result, vit };
  } catch (error) {
    disposeModel(vit);
    throw error;
  }
}
