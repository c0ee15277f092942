import { hashSeed, KoraError } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import type { TfjsErrorCode } from "../errors";
import { withDropoutScope } from "../ops/dropout-scope";
import { canonicalJson } from "./canonical-json";
import {
  CHECKPOINT_MANIFEST_SUFFIX,
  type CheckpointFingerprint,
  listCheckpoints,
  loadCheckpoint,
  restoreCheckpoint,
  saveCheckpoint,
  type TrainingPosition,
} from "./checkpoint";
import { clipScale, globalNorm } from "./clip";
import { type EvaluateOptions, type EvaluationResult, evaluate } from "./evaluate";
import { nodeIo } from "./lazy-modules";
import { defaultBatchSize, disposeBatch, forwardContext, forwardOf, type TrainableModel } from "./model";
import type { Optimizer } from "./optimizer";
import { SeededRandom } from "./random";
import { constantSchedule, type LearningRateSchedule } from "./schedules";
import { namedVariables, type TrainingVariables } from "./variables";

/** What a data function receives at the start of each epoch. */
export interface EpochContext {
  /** The epoch (0-based). */
  epoch: number;
  /**
   * Seed for this epoch's order and augmentation (`hashSeed(seed, "epoch", epoch)`): derive the shuffle from it
   * (e.g. `new SeededRandom(context.seed).permutation(n)`) and the order is reproducible, also on resume.
   */
  seed: number;
  /**
   * How many leading batches the trainer will discard (a resume in the middle of this epoch). The trainer skips
   * them itself; a source may use it to avoid decoding them, but must still yield them (or placeholders).
   */
  skip: number;
}

/**
 * Training batches: an iterable or async iterable that can be iterated again each epoch, or a function returning
 * one epoch's batches. For an exact resume, an epoch's batch order must depend only on {@link EpochContext.seed}.
 */
export type TrainingData<B> =
  | Iterable<B>
  | AsyncIterable<B>
  | ((context: EpochContext) => Iterable<B> | AsyncIterable<B>);

/** Progress after each optimizer step ({@link TrainOptions.onStep}). */
export interface StepEvent {
  /** Optimizer steps completed (1 after the first update). */
  step: number;
  /** Total steps of the run when known (from `steps`, or `epochs` once an epoch has been seen); else `null`. */
  totalSteps: number | null;
  /** Current epoch (0-based). */
  epoch: number;
  /** Mean loss of the step's micro-batches. */
  loss: number;
  /** Learning rate used by the step (the optimizer's default rate × the schedule factor). */
  learningRate: number;
  /** Global gradient norm before clipping. */
  gradientNorm: number;
  /** Whether clipping scaled the gradients. */
  clipped: boolean;
  /** Examples per second over this step (data loading included). */
  imagesPerSecond: number;
  /** Estimated seconds left (moving average of step time), or `null` while the total is unknown. */
  etaSeconds: number | null;
  /** Seconds since `train` started (this process). */
  elapsedSeconds: number;
}

/** Summary at the end of each epoch ({@link TrainOptions.onEpoch}). */
export interface EpochEvent {
  /** The epoch that ended (0-based). */
  epoch: number;
  /** Optimizer steps completed. */
  step: number;
  /** Mean step loss over the steps of this epoch run in this process (`NaN` if none). */
  meanLoss: number;
  /** Examples per second over the epoch (this process). */
  imagesPerSecond: number;
  /** Seconds since `train` started. */
  elapsedSeconds: number;
}

/** An evaluation during training ({@link TrainOptions.onEval}). */
export interface EvalEvent {
  /** Optimizer steps completed. */
  step: number;
  /** Epoch at evaluation (the one that just ended for end-of-epoch evaluations). */
  epoch: number;
  /** The evaluation's result. */
  result: EvaluationResult;
}

/** Periodic evaluation during training. */
export interface TrainEvaluationOptions<B>
  extends Omit<EvaluateOptions<B>, "model" | "data" | "disposeBatches" | "seed"> {
  /** Evaluation batches, iterated afresh each time (or a function returning them). */
  data: Iterable<B> | AsyncIterable<B> | (() => Iterable<B> | AsyncIterable<B>);
  /** Evaluate every this-many optimizer steps (default: never by steps). */
  everySteps?: number;
  /** Evaluate at the end of every epoch (default true). */
  everyEpoch?: boolean;
  /** Dispose each evaluation batch after use (default: as {@link TrainOptions.disposeBatches}). */
  disposeBatches?: boolean;
}

/** Checkpointing of a training run. */
export interface TrainCheckpointOptions {
  /** Folder of the run's checkpoints (see {@link saveCheckpoint}). */
  dir: string;
  /** Save every this-many optimizer steps (default: only at the end). */
  everySteps?: number;
  /** Keep only the newest this-many checkpoints (default 3). */
  keepLast?: number;
  /**
   * Resume from the folder's newest checkpoint that verifies when there is one (default true). With `false`, a
   * folder that already holds checkpoints is an error (`CHECKPOINT_EXISTS`) rather than a mix of two runs.
   */
  resume?: boolean;
  /**
   * A JSON-serialisable description of everything that defines the run besides what `train` sees itself: the
   * training configuration, the adapter spec, the backbone's identity (e.g. its file's SHA-256), the data. Its
   * SHA-256 joins the engine's own settings (seed, optimizer kind and each variable's learning rate and weight
   * decay, accumulation, clipping, variable names, shapes and dtypes) in every checkpoint's fingerprint; a resume
   * from a checkpoint with another fingerprint is refused with `CHECKPOINT_MISMATCH`. Leave out what may change
   * on resume (the step or epoch limit, the checkpoint interval, the backend).
   */
  fingerprint?: unknown;
}

/** Something {@link train} noticed and worked around ({@link TrainOptions.onWarning}). */
export interface TrainWarning {
  /**
   * `"checkpoint-skipped"`: a newer checkpoint failed verification and the run resumed from an older one (the
   * damaged files are renamed with a `.damaged` suffix and kept for inspection). `"checkpoint-unverified"`: the
   * folder was written without manifests (an older version of this package) and was resumed unverified.
   */
  kind: "checkpoint-skipped" | "checkpoint-unverified";
  /** What happened, naming the file and, for a fallback, the checkpoint resumed from. */
  message: string;
  /** The checkpoint file concerned. */
  path: string;
}

/** Options of {@link train}. */
export interface TrainOptions<B> {
  /** The model: forward function or object with `forward`, called with `training: true` inside `tf.tidy`. */
  model: TrainableModel<B>;
  /**
   * The variables to optimise and checkpoint. At each step only those with `trainable === true` are updated; the
   * optimizer state of the others is kept untouched (PyTorch semantics).
   */
  variables: TrainingVariables;
  /** Training batches (see {@link TrainingData}). */
  data: TrainingData<B>;
  /** Loss of a micro-batch (mean over its examples), from the model's output and the batch. */
  loss: (output: tf.Tensor, batch: B) => tf.Scalar;
  /** The optimizer (e.g. `adamW(...)`); its state lives on after `train` returns, dispose it when done. */
  optimizer: Optimizer;
  /** Learning-rate factor per optimizer step (default: constant 1). */
  schedule?: LearningRateSchedule;
  /** Stop after this many epochs (full passes over `data`). At least one of `epochs` and `steps` is required. */
  epochs?: number;
  /** Stop after this many optimizer steps in total (counting steps before a resume). */
  steps?: number;
  /** Clip the global gradient norm to this value (PyTorch's `clip_grad_norm_`); default: no clipping. */
  clipGradientNorm?: number;
  /**
   * Micro-batches whose gradients are averaged into one optimizer step (default 1). With equal micro-batches this
   * equals one step on their union. A partial group at the end of an epoch makes a step of its own.
   */
  accumulationSteps?: number;
  /** Seed of the run's random stream (dropout, augmentation) and of every epoch's order (default 0). */
  seed?: number | string;
  /** Examples in a batch, for images/s (default: first dimension of the batch's first tensor). */
  batchSize?: (batch: B) => number;
  /** Dispose each batch's tensors after use (default true). */
  disposeBatches?: boolean;
  /** Called after every optimizer step (and after its checkpoint, if any, is on disk). */
  onStep?: (event: StepEvent) => void | Promise<void>;
  /** Called at the end of every epoch. */
  onEpoch?: (event: EpochEvent) => void | Promise<void>;
  /** Called after every evaluation. */
  onEval?: (event: EvalEvent) => void | Promise<void>;
  /**
   * Called for each {@link TrainWarning} (e.g. a resume that fell back past a damaged checkpoint). Default: Node's
   * `process.emitWarning`, so a fallback is never silent.
   */
  onWarning?: (warning: TrainWarning) => void | Promise<void>;
  /** Periodic evaluation (optional). */
  evaluation?: TrainEvaluationOptions<B>;
  /** Checkpointing and resume (optional). */
  checkpoint?: TrainCheckpointOptions;
  /**
   * Stops the run cleanly when aborted (e.g. on Ctrl-C): the step in progress completes, the checkpoint (when
   * `checkpoint` is set) is written, and `train` resolves with `stopped: true`; a later call with the same
   * checkpoint folder resumes exactly there.
   */
  signal?: AbortSignal;
}

/** What {@link train} returns. */
export interface TrainResult {
  /** Optimizer steps completed in total. */
  step: number;
  /** Epoch at the end (the number of completed epochs when the run stopped on `epochs`). */
  epoch: number;
  /** Loss of the last step (`null` if this process made no step). */
  loss: number | null;
  /** Step of the checkpoint the run resumed from, or `null`. */
  resumedFrom: number | null;
  /** Path of the last checkpoint written or resumed from, or `null`. */
  checkpoint: string | null;
  /** Every evaluation made during the run. */
  evaluations: EvalEvent[];
  /** True when `signal` stopped the run before its `steps`/`epochs` were done. */
  stopped: boolean;
}

function invalid(field: string, message: string): KoraError {
  return new KoraError<TfjsErrorCode>({
    code: "INVALID_ARGUMENT",
    message: `${field} ${message}`,
    path: field,
  });
}

function positiveInteger(value: number | undefined, field: string): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= 1)) {
    throw invalid(field, `must be a positive integer, got ${value}`);
  }
}

async function removeTemporaryFiles(dir: string): Promise<void> {
  const { fs, path } = await nodeIo();
  let names: string[] = [];
  try {
    names = await fs.readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (/^\.(checkpoint-\d+\.(safetensors|manifest\.json)|latest\.json)\.tmp-/.test(name))
      await fs.rm(path.join(dir, name), { force: true });
  }
}

/** The canonical JSON of {@link TrainCheckpointOptions.fingerprint}, or `INVALID_ARGUMENT` when it has none. */
function callerJson(value: unknown): string {
  let text: string | undefined;
  try {
    text = canonicalJson(value);
  } catch (error) {
    throw new KoraError<TfjsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `checkpoint.fingerprint must be JSON-serialisable (plain data, not cyclic): ${(error as Error).message}`,
      path: "checkpoint.fingerprint",
      cause: error,
    });
  }
  if (text === undefined) {
    throw new KoraError<TfjsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `checkpoint.fingerprint must be JSON-serialisable, got ${typeof value}`,
      path: "checkpoint.fingerprint",
    });
  }
  return text;
}

/** Renames a damaged checkpoint's data file and manifest to `*.damaged`: kept for inspection, never resumed from. */
async function setAside(dataPath: string): Promise<void> {
  const { fs } = await nodeIo();
  const manifest = dataPath.replace(/\.safetensors$/, CHECKPOINT_MANIFEST_SUFFIX);
  for (const path of [dataPath, manifest]) {
    await fs.rename(path, `${path}.damaged`).catch(() => undefined);
  }
}

/**
 * Trains `variables` of `model` on `data`: forward + loss + gradients of each micro-batch in `tf.tidy`, gradient
 * accumulation, a finiteness check (a NaN/Inf loss or gradient stops the run with `KoraError` code `NON_FINITE`
 * naming the step, before any variable or checkpoint changes), global-norm clipping, the optimizer update with the
 * scheduled learning rate, atomic checkpoints (variables, optimizer state, schedule and data-order position, RNG
 * state, each with a manifest of checksums and the run's fingerprint) and exact resume (adapter dropout included,
 * see {@link withDropoutScope}) from the newest checkpoint that verifies, progress callbacks and periodic
 * evaluation. No tensor outlives a step except the optimizer's state.
 *
 * @throws KoraError `CHECKPOINT_MISMATCH` when the folder's checkpoint was written by another configuration,
 * `CHECKPOINT_CORRUPT` when checkpoints exist but none verifies (see {@link loadCheckpoint}); `DISK_FULL` /
 * `IO_ERROR` when a checkpoint cannot be written, naming the file and the last complete checkpoint.
 *
 * @example
 * ```ts
 * const optimizer = adamW({ learningRate: 1e-3, weightDecay: 0.05 });
 * await train({
 *   model: (batch, ctx) => vit.forward(batch.images, { format: "NHWC", training: ctx.training }).logits,
 *   variables: trainableVariables(vit), data: (ctx) => batches(ctx.seed), optimizer,
 *   loss: (logits, batch) => crossEntropy(logits, batch.labels, { labelSmoothing: 0.1 }),
 *   schedule: warmupCosineSchedule({ warmupSteps: 100, totalSteps: 1000 }), steps: 1000,
 *   clipGradientNorm: 1, seed: 0, checkpoint: { dir: "runs/a", everySteps: 100 },
 * });
 * ```
 */
export async function train<B>(options: TrainOptions<B>): Promise<TrainResult> {
  const named = namedVariables(options.variables);
  const byEngineName = new Map<string, string>();
  for (const [name, variable] of named) byEngineName.set(variable.name, name);
  if (options.epochs === undefined && options.steps === undefined) {
    throw invalid("epochs", "or steps is required");
  }
  positiveInteger(options.epochs, "epochs");
  positiveInteger(options.steps, "steps");
  positiveInteger(options.accumulationSteps, "accumulationSteps");
  positiveInteger(options.checkpoint?.everySteps, "checkpoint.everySteps");
  positiveInteger(options.checkpoint?.keepLast, "checkpoint.keepLast");
  positiveInteger(options.evaluation?.everySteps, "evaluation.everySteps");
  const clip = options.clipGradientNorm;
  if (clip !== undefined && !(clip > 0 && Number.isFinite(clip))) {
    throw invalid("clipGradientNorm", `must be a positive finite number, got ${clip}`);
  }
  const forward = forwardOf(options.model);
  const schedule = options.schedule ?? constantSchedule();
  const accumulation = options.accumulationSteps ?? 1;
  const seed = options.seed ?? 0;
  const disposeBatches = options.disposeBatches ?? true;
  const batchSize = options.batchSize ?? defaultBatchSize;
  const { optimizer } = options;
  const checkpointOptions = options.checkpoint;
  const keepLast = checkpointOptions?.keepLast ?? 3;

  const warn = async (warning: TrainWarning): Promise<void> => {
    if (options.onWarning !== undefined) await options.onWarning(warning);
    else globalThis.process?.emitWarning?.(warning.message, { code: warning.kind, type: "KoraWarning" });
  };
  let fingerprintCache: CheckpointFingerprint | undefined;
  const fingerprint = async (): Promise<CheckpointFingerprint> => {
    if (fingerprintCache !== undefined) return fingerprintCache;
    const { sha256 } = await nodeIo();
    const caller = checkpointOptions?.fingerprint;
    fingerprintCache = {
      engine: {
        seed,
        accumulationSteps: accumulation,
        clipGradientNorm: clip ?? null,
        optimizer: optimizer.kind,
        variables: [...named].map(([name, v]) => {
          const { learningRate, weightDecay } = optimizer.resolve(name, v);
          return [name, v.shape, v.dtype, learningRate, weightDecay];
        }),
      },
      caller: caller === undefined ? null : sha256(callerJson(caller)),
    };
    return fingerprintCache;
  };

  let step = 0;
  let epoch = 0;
  let batchInEpoch = 0;
  let stepsPerEpoch: number | null = null;
  let random = new SeededRandom(hashSeed(seed, "train"));
  let resumedFrom: number | null = null;
  let lastCheckpoint: string | null = null;
  let lastCheckpointStep = -1;

  if (checkpointOptions !== undefined) {
    await removeTemporaryFiles(checkpointOptions.dir);
    if (checkpointOptions.resume === false && (await listCheckpoints(checkpointOptions.dir)).length > 0) {
      throw new KoraError<TfjsErrorCode>({
        code: "CHECKPOINT_EXISTS",
        message:
          `${checkpointOptions.dir} already holds checkpoints and checkpoint.resume is false: ` +
          "remove the folder, choose another one, or resume from it",
        path: "checkpoint.dir",
      });
    }
    if (checkpointOptions.resume ?? true) {
      const checkpoint = await loadCheckpoint(checkpointOptions.dir, { fingerprint: await fingerprint() });
      if (checkpoint !== null) {
        for (const skipped of checkpoint.skipped) {
          await warn({
            kind: "checkpoint-skipped",
            message:
              `${skipped.path}: ${skipped.reason}; resuming from the older ${checkpoint.path} (step ` +
              `${checkpoint.position.step}) instead, and keeping the damaged files as *.damaged`,
            path: skipped.path,
          });
          await setAside(skipped.path);
        }
        if (checkpoint.manifest === null) {
          await warn({
            kind: "checkpoint-unverified",
            message: `${checkpoint.path}: written without a manifest (an older @kora/tfjs), resumed unverified`,
            path: checkpoint.path,
          });
        }
        if (String(checkpoint.position.seed) !== String(seed)) {
          throw new KoraError<TfjsErrorCode>({
            code: "CHECKPOINT_MISMATCH",
            message: `${checkpoint.path} was written by a run with seed ${checkpoint.position.seed}, this run has seed ${seed}`,
            path: "seed",
          });
        }
        restoreCheckpoint(checkpoint, Object.fromEntries(named), optimizer);
        ({ step, epoch, batchInEpoch, stepsPerEpoch } = checkpoint.position);
        random = SeededRandom.fromState(checkpoint.position.random);
        resumedFrom = step;
        lastCheckpoint = checkpoint.path;
        lastCheckpointStep = step;
      }
    }
  }

  const position = (): TrainingPosition => ({
    step,
    epoch,
    batchInEpoch,
    random: random.getState(),
    seed,
    stepsPerEpoch,
  });
  const save = async (): Promise<void> => {
    if (checkpointOptions === undefined || lastCheckpointStep === step) return;
    try {
      lastCheckpoint = await saveCheckpoint({
        dir: checkpointOptions.dir,
        variables: Object.fromEntries(named),
        optimizer,
        position: position(),
        keepLast,
        fingerprint: await fingerprint(),
      });
    } catch (error) {
      if (!(KoraError.isInstance(error) && (error.code === "DISK_FULL" || error.code === "IO_ERROR")))
        throw error;
      // Say what a rerun will resume from: the failed write left the previous checkpoint as it was.
      throw new KoraError<TfjsErrorCode>({
        code: error.code === "DISK_FULL" ? "DISK_FULL" : "IO_ERROR",
        message:
          `step ${step}: ${error.message}; ` +
          (lastCheckpoint === null
            ? "no checkpoint of this run was completed before it"
            : `the last complete checkpoint ${lastCheckpoint} (step ${lastCheckpointStep}) is intact and a rerun resumes from it`),
        ...(error.path === undefined ? {} : { path: error.path }),
        cause: error,
      });
    }
    lastCheckpointStep = step;
  };

  const evaluations: EvalEvent[] = [];
  const runEvaluation = async (): Promise<void> => {
    const evaluation = options.evaluation;
    if (evaluation === undefined) return;
    const { data, everySteps: _everySteps, everyEpoch: _everyEpoch, ...rest } = evaluation;
    const result = await evaluate<B>({
      ...rest,
      model: options.model,
      data: typeof data === "function" ? data() : data,
      disposeBatches: evaluation.disposeBatches ?? disposeBatches,
      seed: hashSeed(seed, "evaluation", step),
    });
    const event: EvalEvent = { step, epoch, result };
    evaluations.push(event);
    await options.onEval?.(event);
  };

  const stepLimit = options.steps ?? Number.POSITIVE_INFINITY;
  const epochLimit = options.epochs ?? Number.POSITIVE_INFINITY;
  const complete = (): boolean => step >= stepLimit || epoch >= epochLimit;
  const finished = (): boolean => complete() || options.signal?.aborted === true;
  const totalSteps = (): number | null => {
    const byEpochs = stepsPerEpoch === null ? Number.POSITIVE_INFINITY : epochLimit * stepsPerEpoch;
    const total = Math.min(stepLimit, byEpochs);
    return Number.isFinite(total) ? total : null;
  };

  const started = performance.now();
  let lastStepEnd = started;
  let averageStepSeconds: number | null = null;
  let lastLoss: number | null = null;

  // Accumulation state of the step in progress.
  const accumulated = new Map<string, tf.Tensor>();
  const microLosses: tf.Scalar[] = [];
  let stepImages = 0;
  const clearAccumulation = (): void => {
    tf.dispose([...accumulated.values(), ...microLosses]);
    accumulated.clear();
    microLosses.length = 0;
    stepImages = 0;
  };

  const microStep = (batch: B): void => {
    const trainable = [...named.values()].filter((v) => v.trainable);
    if (trainable.length === 0) {
      throw new KoraError<TfjsErrorCode>({
        code: "NO_TRAINABLE_VARIABLES",
        message: "none of the variables passed to train() is trainable",
        path: "variables",
      });
    }
    const context = forwardContext(true, step, epoch, random);
    // Adapter dropout masks derive from (seed, step, micro-batch, site) rather than from call counters that a
    // checkpoint would not hold, so a resumed process draws the masks of the uninterrupted run.
    const { value, grads } = withDropoutScope({ seed, step, microBatch: microLosses.length }, () =>
      tf.tidy(() =>
        tf.variableGrads(() => {
          const loss = options.loss(forward(batch, context), batch);
          if (loss.rank !== 0) {
            throw new KoraError<TfjsErrorCode>({
              code: "SHAPE_MISMATCH",
              message: `loss must be a scalar, got [${loss.shape}]`,
            });
          }
          return loss;
        }, trainable),
      ),
    );
    microLosses.push(value);
    for (const [engineName, gradient] of Object.entries(grads)) {
      if (gradient === null) continue;
      const name = byEngineName.get(engineName) as string;
      const previous = accumulated.get(name);
      if (previous === undefined) accumulated.set(name, gradient);
      else {
        accumulated.set(name, tf.add(previous, gradient));
        tf.dispose([previous, gradient]);
      }
    }
    stepImages += batchSize(batch);
  };

  const optimizerStep = async (): Promise<void> => {
    const count = microLosses.length;
    const names = [...accumulated.keys()];
    const { gradients, stats } = tf.tidy(() => {
      const mean = names.map((n) => {
        const g = accumulated.get(n) as tf.Tensor;
        return count > 1 ? tf.div(g, count) : tf.clone(g);
      });
      return { gradients: mean, stats: tf.stack([tf.mean(tf.stack(microLosses)), globalNorm(mean)]) };
    });
    const images = stepImages;
    clearAccumulation();
    let applied = gradients;
    try {
      const [loss, norm] = Array.from(await stats.data()) as [number, number];
      stats.dispose();
      if (!Number.isFinite(loss) || !Number.isFinite(norm)) {
        const what = !Number.isFinite(loss) ? `the loss is ${loss}` : `the gradient norm is ${norm}`;
        throw new KoraError<TfjsErrorCode>({
          code: "NON_FINITE",
          message:
            `step ${step + 1} (epoch ${epoch}): ${what}; training stopped before updating any variable` +
            (lastCheckpoint === null ? "" : `, the last good checkpoint ${lastCheckpoint} is untouched`),
          path: `step ${step + 1}`,
        });
      }
      const scale = clip === undefined ? 1 : clipScale(norm, clip);
      if (scale < 1) applied = tf.tidy(() => gradients.map((g) => tf.mul(g, scale)));
      const factor = schedule(step);
      optimizer.applyGradients(
        names.map((name, i) => ({
          name,
          variable: named.get(name) as tf.Variable,
          gradient: applied[i] as tf.Tensor,
        })),
        factor,
      );
      step += 1;
      lastLoss = loss;
      const now = performance.now();
      const seconds = (now - lastStepEnd) / 1000;
      lastStepEnd = now;
      averageStepSeconds = averageStepSeconds === null ? seconds : 0.9 * averageStepSeconds + 0.1 * seconds;
      const total = totalSteps();
      await options.onStep?.({
        step,
        totalSteps: total,
        epoch,
        loss,
        learningRate: optimizer.learningRate * factor,
        gradientNorm: norm,
        clipped: scale < 1,
        imagesPerSecond: seconds > 0 ? images / seconds : 0,
        etaSeconds: total === null ? null : Math.max(0, total - step) * averageStepSeconds,
        elapsedSeconds: (now - started) / 1000,
      });
      // The step is reported before its checkpoint is written: a process that dies in between resumes from the
      // checkpoint before and replays the step, so what a caller logged in onStep is never ahead of a checkpoint
      // that has no record of it (the other order lost that step's log line).
      if (checkpointOptions?.everySteps !== undefined && step % checkpointOptions.everySteps === 0)
        await save();
      epochLosses.push(loss);
      epochImages += images;
      const every = options.evaluation?.everySteps;
      if (every !== undefined && step % every === 0) await runEvaluation();
    } finally {
      stats.dispose();
      tf.dispose(gradients);
      if (applied !== gradients) tf.dispose(applied);
    }
  };

  let epochLosses: number[] = [];
  let epochImages = 0;
  try {
    while (!finished()) {
      const context: EpochContext = { epoch, seed: hashSeed(seed, "epoch", epoch), skip: batchInEpoch };
      const iterable = typeof options.data === "function" ? options.data(context) : options.data;
      const epochStart = performance.now();
      epochLosses = [];
      epochImages = 0;
      let skip = batchInEpoch;
      let seen = 0;
      let exhausted = true;
      for await (const batch of iterable as AsyncIterable<B>) {
        seen += 1;
        if (skip > 0) {
          skip -= 1;
          if (disposeBatches) disposeBatch(batch);
          continue;
        }
        try {
          microStep(batch);
        } finally {
          if (disposeBatches) disposeBatch(batch);
        }
        batchInEpoch += 1;
        if (microLosses.length === accumulation) {
          await optimizerStep();
          if (finished()) {
            exhausted = false;
            break;
          }
        }
      }
      if (exhausted && microLosses.length > 0) await optimizerStep();
      if (seen === 0) {
        throw new KoraError<TfjsErrorCode>({
          code: "EMPTY_DATA",
          message:
            `epoch ${epoch} of the training data yielded no batches; pass a re-iterable (an array, a dataset) ` +
            "or a function (context) => batches so that every epoch has data",
          path: "data",
        });
      }
      if (!exhausted) break;
      if (batchInEpoch > seen) {
        throw new KoraError<TfjsErrorCode>({
          code: "CHECKPOINT_MISMATCH",
          message: `epoch ${epoch} has ${seen} batches but the checkpoint had consumed ${batchInEpoch}`,
          path: "data",
        });
      }
      stepsPerEpoch ??= Math.ceil(seen / accumulation);
      const ended = epoch;
      epoch += 1;
      batchInEpoch = 0;
      const seconds = (performance.now() - epochStart) / 1000;
      await options.onEpoch?.({
        epoch: ended,
        step,
        meanLoss:
          epochLosses.length === 0 ? Number.NaN : epochLosses.reduce((a, b) => a + b, 0) / epochLosses.length,
        imagesPerSecond: seconds > 0 ? epochImages / seconds : 0,
        elapsedSeconds: (performance.now() - started) / 1000,
      });
      if (options.evaluation !== undefined && (options.evaluation.everyEpoch ?? true)) await runEvaluation();
    }
    await save();
  } finally {
    clearAccumulation();
  }
  return {
    step,
    epoch,
    loss: lastLoss,
    resumedFrom,
    checkpoint: lastCheckpoint,
    evaluations,
    stopped: !complete() && options.signal?.aborted === true,
  };
}
