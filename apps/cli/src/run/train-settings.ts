import { UsageError } from "../support/errors";
import type { TrainInputs } from "./experiment";
import type { TrainSettings } from "./run-file";

/** Defaults of the optimisation flags. */
export const TRAIN_DEFAULTS = { batchSize: 32, lr: 1e-3, weightDecay: 0.01, warmup: 0, seed: 0 } as const;

/** The optimisation settings with defaults filled in. */
export function trainSettings(inputs: TrainInputs, defaultEpochs: number): TrainSettings {
  const settings: TrainSettings = {
    batchSize: inputs.batchSize ?? TRAIN_DEFAULTS.batchSize,
    lr: inputs.lr ?? TRAIN_DEFAULTS.lr,
    weightDecay: inputs.weightDecay ?? TRAIN_DEFAULTS.weightDecay,
    warmup: inputs.warmup ?? TRAIN_DEFAULTS.warmup,
    seed: inputs.seed ?? TRAIN_DEFAULTS.seed,
  };
  if (!(settings.lr > 0)) throw new UsageError(`--lr must be positive, got ${settings.lr}`);
  if (!(settings.weightDecay >= 0))
    throw new UsageError(`--weight-decay must be ≥ 0, got ${settings.weightDecay}`);
  if (inputs.epochs !== undefined) settings.epochs = inputs.epochs;
  if (inputs.steps !== undefined) settings.steps = inputs.steps;
  if (inputs.epochs === undefined && inputs.steps === undefined) settings.epochs = defaultEpochs;
  if (inputs.checkpointEvery !== undefined) settings.checkpointEvery = inputs.checkpointEvery;
  return settings;
}
