import { KoraError } from "@kora/spec";
import { UsageError } from "../support/errors";
import type { TrainInputs } from "./experiment";
import type { TrainSettings } from "./run-file";

/** Defaults of the optimisation flags. */
export const TRAIN_DEFAULTS = {
  batchSize: 32,
  lr: 1e-3,
  weightDecay: 0.01,
  gateLrMultiplier: 1,
  warmup: 0,
  seed: 0,
} as const;

/** The optimisation settings with defaults filled in. */
export function trainSettings(inputs: TrainInputs, defaultEpochs: number): TrainSettings {
  const settings: TrainSettings = {
    batchSize: inputs.batchSize ?? TRAIN_DEFAULTS.batchSize,
    lr: inputs.lr ?? TRAIN_DEFAULTS.lr,
    weightDecay: inputs.weightDecay ?? TRAIN_DEFAULTS.weightDecay,
    gateLrMultiplier: inputs.gateLrMultiplier ?? TRAIN_DEFAULTS.gateLrMultiplier,
    warmup: inputs.warmup ?? TRAIN_DEFAULTS.warmup,
    seed: inputs.seed ?? TRAIN_DEFAULTS.seed,
  };
  if (!(settings.lr > 0)) throw new UsageError(`--lr must be positive, got ${settings.lr}`);
  if (!(settings.weightDecay >= 0))
    throw new UsageError(`--weight-decay must be ≥ 0, got ${settings.weightDecay}`);
  if (!((settings.gateLrMultiplier ?? 1) > 0))
    throw new UsageError(`--gate-lr-multiplier must be positive, got ${settings.gateLrMultiplier}`);
  // Recorded only when given: a run without it trains its head at --lr, and its fingerprint stays as it was.
  if (inputs.headLr !== undefined) {
    if (!(Number.isFinite(inputs.headLr) && inputs.headLr > 0))
      throw new UsageError(`--head-lr must be positive and finite, got ${inputs.headLr}`);
    settings.headLr = inputs.headLr;
  }
  if (inputs.epochs !== undefined) settings.epochs = inputs.epochs;
  if (inputs.steps !== undefined) settings.steps = inputs.steps;
  if (inputs.epochs === undefined && inputs.steps === undefined) settings.epochs = defaultEpochs;
  if (inputs.checkpointEvery !== undefined) settings.checkpointEvery = inputs.checkpointEvery;
  return settings;
}

/** The largest batch a run accepts: beyond it, one batch of even the smallest images outgrows the heap. */
export const MAX_BATCH_SIZE = 8192;
/** The most optimizer steps a run accepts (with `epochs`, the steps they amount to): more is a typo. */
export const MAX_STEPS = 100_000_000;

/**
 * Checks the run's size against its training data and sane limits before anything is built: a batch larger than
 * the data or than {@link MAX_BATCH_SIZE}, or more than {@link MAX_STEPS} steps, is an error naming the field,
 * where it used to allocate gigabytes or run for ever.
 *
 * @throws KoraError `INVALID_ARGUMENT` with `path` `batchSize`, `steps` or `epochs`.
 */
export function checkRunSize(
  settings: Pick<TrainSettings, "batchSize" | "steps" | "epochs">,
  examples: number,
  data: string,
): void {
  const fail = (path: string, flag: string, message: string): never => {
    throw new KoraError({ code: "INVALID_ARGUMENT", message: `${flag} (${path}): ${message}`, path });
  };
  if (settings.batchSize > MAX_BATCH_SIZE) {
    fail("batchSize", "--batch-size", `${settings.batchSize} is more than the limit of ${MAX_BATCH_SIZE}`);
  }
  if (settings.batchSize > examples) {
    fail(
      "batchSize",
      "--batch-size",
      `${settings.batchSize} is more than the ${examples} training examples of ${data}`,
    );
  }
  if (settings.steps !== undefined && settings.steps > MAX_STEPS) {
    fail("steps", "--steps", `${settings.steps} is more than the limit of ${MAX_STEPS} steps`);
  }
  if (
    settings.epochs !== undefined &&
    settings.epochs * Math.ceil(examples / settings.batchSize) > MAX_STEPS
  ) {
    fail(
      "epochs",
      "--epochs",
      `${settings.epochs} epochs of ${Math.ceil(examples / settings.batchSize)} steps are more than the limit of ${MAX_STEPS} steps`,
    );
  }
}
