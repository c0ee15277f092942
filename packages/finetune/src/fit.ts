import type { Dataset } from "@kora/datasets";
import {
  adamW,
  isNoWeightDecayParameter,
  type ParameterGroup,
  type StepEvent,
  type TrainCheckpointOptions,
  type TrainResult,
  type TrainWarning,
  train,
  warmupCosineSchedule,
} from "@kora/tfjs";
import type { ViT } from "@kora/vit";
import { epochData, exampleCount, type TensorBatch } from "./batches";
import { checkInteger, finetuneError } from "./errors";
import { gateVariableNames } from "./gates";
import { trainableVariables } from "./model";
import type { Task } from "./tasks/task";

/** Steps a run makes: `steps`, or `epochs` passes of ⌈examples / batch size⌉ steps, whichever ends first. */
export function plannedSteps(
  examples: number,
  options: { batchSize: number; steps?: number | undefined; epochs?: number | undefined },
): number {
  const perEpoch = Math.ceil(examples / options.batchSize);
  const byEpochs = options.epochs === undefined ? Number.POSITIVE_INFINITY : options.epochs * perEpoch;
  return Math.min(options.steps ?? Number.POSITIVE_INFINITY, byEpochs);
}

/** Options of {@link finetune}. */
export interface FinetuneOptions {
  /** The model, prepared for the run (see `prepareModel`): its trainable variables are what trains. */
  vit: ViT;
  task: Task;
  /** Training data. */
  dataset: Dataset;
  /** Train on these dataset indices only (a fixed subset). Default: every item. */
  indices?: ArrayLike<number> | undefined;
  /** Labels replacing the dataset's, one per entry of `indices` (a label-shuffling control). */
  labels?: Int32Array | undefined;
  batchSize: number;
  /** Passes over the data (with `steps`: whichever ends first). At least one of the two. */
  epochs?: number | undefined;
  /** Optimizer steps in total. */
  steps?: number | undefined;
  /** Peak learning rate of AdamW. */
  learningRate: number;
  /** AdamW's decoupled weight decay; none on biases, norms and gates. Default 0.01. */
  weightDecay?: number | undefined;
  /**
   * Multiplies the learning rate of every learnable gate of the adapter (KoRA, gated bottleneck, gated LoRA), e.g.
   * 10 to let the gates open faster than the weights behind them learn. Default 1.
   */
  gateLearningRateMultiplier?: number | undefined;
  /**
   * Peak learning rate of the task head alone (default `learningRate`). Full fine-tuning moves every pretrained
   * weight at a small rate, while the head starts from random: give the head the rate a linear probe would use
   * (as timm's layer-wise decay and most fine-tuning recipes do) so the comparison is not with a half-trained head.
   */
  headLearningRate?: number | undefined;
  /**
   * Layer-wise learning-rate decay, as timm's `layer_decay` and BEiT/MAE fine-tuning: block `i` of a depth-`L`
   * encoder (its backbone weights and its adapter's) trains at `learningRate · layerDecay^(L − i)`, the embeddings at
   * `layerDecay^(L + 1)`, the final LayerNorm and the head at the full rate. E.g. 0.75. Default: none (every
   * variable at its group's rate).
   */
  layerDecay?: number | undefined;
  /** Linear warm-up steps before the cosine decay to 0. Default 0. */
  warmupSteps?: number | undefined;
  /**
   * Clip the global gradient norm to this value. Default 1 (Hugging Face Trainer's `max_grad_norm`): one bad batch
   * cannot throw a small adapter far; `null` turns clipping off.
   */
  clipGradientNorm?: number | null | undefined;
  /** Seed of the data order (each epoch its own) and of dropout. */
  seed: number;
  /**
   * Checkpoints and resume (see `@kora/tfjs`'s `train`). Every checkpoint's fingerprint covers, besides the
   * caller's `fingerprint` and what `train` checks itself, the task, the data (name, size, indices, labels), the
   * batch size and the warm-up: a resume that changes one of them is refused with `CHECKPOINT_MISMATCH`.
   */
  checkpoint?: TrainCheckpointOptions | undefined;
  /** Stops the run after the step in progress (and its checkpoint). */
  signal?: AbortSignal | undefined;
  /** After every optimizer step. */
  onStep?: ((event: StepEvent) => void | Promise<void>) | undefined;
  /**
   * Called for each warning of the training engine (a resume that fell back past a damaged checkpoint, a folder
   * resumed unverified). Default: `train`'s own (Node's `process.emitWarning`).
   */
  onWarning?: ((warning: TrainWarning) => void | Promise<void>) | undefined;
}

/** The block a variable belongs to for layer-wise decay: 0 the embeddings, `i + 1` block `i`, else none. */
function layerOf(name: string): number | undefined {
  if (name.startsWith("vit.embeddings.")) return 0;
  const block = /^(?:vit\.encoder\.layer|adapter\.layers)\.(\d+)\./.exec(name);
  return block === null ? undefined : Number(block[1]) + 1;
}

/** {@link FinetuneOptions.layerDecay} as parameter groups: one scale per layer, the rest untouched. */
function layerDecayGroups(depth: number, decay: number): ParameterGroup[] {
  return Array.from({ length: depth + 1 }, (_, layer) => ({
    match: (name: string) => layerOf(name) === layer,
    learningRateScale: decay ** (depth + 1 - layer),
  }));
}

/**
 * What {@link finetune} decides beyond what `train` sees itself (which fingerprints the seed, the optimizer and
 * each variable's name, shape, learning rate and weight decay): the task, the data (name, size, and a hash of the
 * chosen indices and replacement labels), the batch size and the warm-up. It joins every checkpoint's fingerprint,
 * so a resume with other data or another batch is refused (`CHECKPOINT_MISMATCH`) even when the caller passes no
 * fingerprint of its own. Steps and epochs are left out: a resume may lengthen the run.
 */
function finetuneFingerprint(options: FinetuneOptions, warmupSteps: number): Record<string, unknown> {
  return {
    task: options.task.kind,
    dataset: { name: options.dataset.name, size: options.dataset.size },
    indices: options.indices === undefined ? null : contentHash(options.indices),
    labels: options.labels === undefined ? null : contentHash(options.labels),
    batchSize: options.batchSize,
    warmupSteps,
  };
}

/** Length and 32-bit FNV-1a of a list of integers: enough to tell two subsets apart, cheap for millions. */
function contentHash(values: ArrayLike<number>): { count: number; fnv1a: number } {
  let hash = 0x811c9dc5;
  for (let i = 0; i < values.length; i++) {
    let value = (values[i] as number) | 0;
    for (let byte = 0; byte < 4; byte++) {
      hash = Math.imul(hash ^ (value & 0xff), 0x01000193);
      value >>>= 8;
    }
  }
  return { count: values.length, fnv1a: hash >>> 0 };
}

/** What {@link finetune} returns: `train`'s result and the steps the run was planned for. */
export interface FinetuneResult extends TrainResult {
  totalSteps: number;
}

/**
 * Trains the model's trainable variables (adapter, head, and the backbone when thawed) on a task: AdamW without
 * decay on biases, norms and gates (whose learning rate `gateLearningRateMultiplier` scales; the head's may be set
 * apart with `headLearningRate`), a warm-up + cosine schedule over the run, gradient clipping, and every epoch a
 * seeded shuffle of the data. The same options give the same weights, bit for bit, whichever app calls it.
 *
 * @throws KoraError `INVALID_ARGUMENT` for a bad number, `TASK_MISMATCH` when the dataset is not of the task's kind.
 */
export async function finetune(options: FinetuneOptions): Promise<FinetuneResult> {
  const { vit, task, dataset } = options;
  if (dataset.task !== task.kind) {
    throw finetuneError(
      "TASK_MISMATCH",
      `${dataset.name} is a ${dataset.task} dataset; the task is ${task.kind}`,
    );
  }
  task.checkHead(vit.head, "finetune");
  checkInteger(options.batchSize, "batchSize", 1);
  if (options.steps !== undefined) checkInteger(options.steps, "steps", 1);
  if (options.epochs !== undefined) checkInteger(options.epochs, "epochs", 1);
  if (options.steps === undefined && options.epochs === undefined) {
    throw finetuneError("INVALID_ARGUMENT", "give steps or epochs (or both)", "steps");
  }
  if (!(options.learningRate > 0)) {
    throw finetuneError(
      "INVALID_ARGUMENT",
      `learningRate must be positive, got ${options.learningRate}`,
      "learningRate",
    );
  }
  const weightDecay = options.weightDecay ?? 0.01;
  if (!(weightDecay >= 0)) {
    throw finetuneError("INVALID_ARGUMENT", `weightDecay must be ≥ 0, got ${weightDecay}`, "weightDecay");
  }
  const gateMultiplier = options.gateLearningRateMultiplier ?? 1;
  if (!(Number.isFinite(gateMultiplier) && gateMultiplier > 0)) {
    throw finetuneError(
      "INVALID_ARGUMENT",
      `gateLearningRateMultiplier must be a positive finite number, got ${gateMultiplier}`,
      "gateLearningRateMultiplier",
    );
  }
  const headLearningRate = options.headLearningRate;
  if (headLearningRate !== undefined && !(Number.isFinite(headLearningRate) && headLearningRate > 0)) {
    throw finetuneError(
      "INVALID_ARGUMENT",
      `headLearningRate must be a positive finite number, got ${headLearningRate}`,
      "headLearningRate",
    );
  }
  const layerDecay = options.layerDecay;
  if (layerDecay !== undefined && !(Number.isFinite(layerDecay) && layerDecay > 0 && layerDecay <= 1)) {
    throw finetuneError(
      "INVALID_ARGUMENT",
      `layerDecay must be a number in (0, 1], got ${layerDecay}`,
      "layerDecay",
    );
  }
  const warmupSteps = options.warmupSteps ?? 0;
  checkInteger(warmupSteps, "warmupSteps", 0);
  const clip = options.clipGradientNorm === undefined ? 1 : options.clipGradientNorm;
  if (clip !== null && !(clip > 0)) {
    throw finetuneError(
      "INVALID_ARGUMENT",
      `clipGradientNorm must be positive or null, got ${clip}`,
      "clipGradientNorm",
    );
  }
  const totalSteps = plannedSteps(exampleCount(dataset, options), options);
  const optimizer = adamW({
    learningRate: options.learningRate,
    weightDecay,
    groups: [
      { match: isNoWeightDecayParameter, weightDecay: 0 },
      ...(headLearningRate === undefined
        ? []
        : [{ match: vit.head?.namedParameters().map((p) => p.name) ?? [], learningRate: headLearningRate }]),
      ...(gateMultiplier === 1 ? [] : [{ match: gateVariableNames(vit), learningRateScale: gateMultiplier }]),
      ...(layerDecay === undefined ? [] : layerDecayGroups(vit.config.depth, layerDecay)),
    ],
  });
  try {
    const result = await train<TensorBatch>({
      model: (batch, context) =>
        task.rawOutput(vit.forward(batch.images, { format: "NHWC", training: context.training })),
      variables: trainableVariables(vit),
      data: epochData(dataset, vit.config, {
        batchSize: options.batchSize,
        indices: options.indices,
        labels: options.labels,
        ...(task.depthRange === undefined ? {} : { depthRange: task.depthRange }),
      }),
      // The dataset was checked to be of the task's kind above, so every batch is of the task's own kind.
      loss: (raw, batch) => task.loss(raw, batch as never),
      optimizer,
      // A schedule needs one step past its warm-up; the cosine part then ends at the run's last step.
      schedule: warmupCosineSchedule({ warmupSteps, totalSteps: Math.max(totalSteps, warmupSteps + 1) }),
      ...(options.epochs === undefined ? {} : { epochs: options.epochs }),
      ...(options.steps === undefined ? {} : { steps: options.steps }),
      ...(clip === null ? {} : { clipGradientNorm: clip }),
      seed: options.seed,
      ...(options.checkpoint === undefined
        ? {}
        : {
            checkpoint: {
              ...options.checkpoint,
              fingerprint: {
                finetune: finetuneFingerprint(options, warmupSteps),
                caller: options.checkpoint.fingerprint ?? null,
              },
            },
          }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.onStep === undefined ? {} : { onStep: options.onStep }),
      ...(options.onWarning === undefined ? {} : { onWarning: options.onWarning }),
    });
    return { ...result, totalSteps };
  } finally {
    optimizer.dispose();
  }
}
