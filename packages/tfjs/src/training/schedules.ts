import { KoraError } from "@kora/spec";
import type { TfjsErrorCode } from "../errors";

/**
 * A learning-rate schedule: the factor (usually in `[0, 1]`) that multiplies every parameter group's learning rate
 * at optimizer step `step` (0-based: the first update is step 0), as PyTorch's `LambdaLR`. A pure function of the
 * step, so a checkpoint's step fixes the schedule position.
 */
export type LearningRateSchedule = (step: number) => number;

function check(condition: boolean, field: string, message: string): void {
  if (!condition)
    throw new KoraError<TfjsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `${field} ${message}`,
      path: field,
    });
}

/** The schedule that keeps the learning rate constant (factor 1 at every step). */
export function constantSchedule(): LearningRateSchedule {
  return () => 1;
}

/** Options of {@link warmupCosineSchedule}. */
export interface WarmupCosineScheduleOptions {
  /** Steps of linear warmup from 0 to the full learning rate (0 for none). */
  warmupSteps: number;
  /** Total number of optimizer steps; the cosine reaches `minFactor` at this step and stays there. */
  totalSteps: number;
  /** Factor at the end of the decay (default 0). */
  minFactor?: number;
}

/**
 * Linear warmup then cosine decay, as Hugging Face's `get_cosine_schedule_with_warmup` (one half-cosine):
 * `step / warmupSteps` during warmup, then `minFactor + (1 - minFactor) · ½(1 + cos(π · progress))` with
 * `progress = (step - warmupSteps) / (totalSteps - warmupSteps)` clamped to `[0, 1]`.
 */
export function warmupCosineSchedule(options: WarmupCosineScheduleOptions): LearningRateSchedule {
  const { warmupSteps, totalSteps, minFactor = 0 } = options;
  check(Number.isInteger(warmupSteps) && warmupSteps >= 0, "warmupSteps", "must be a non-negative integer");
  check(
    Number.isInteger(totalSteps) && totalSteps > warmupSteps,
    "totalSteps",
    `must be an integer above warmupSteps (${warmupSteps}), got ${totalSteps}`,
  );
  check(minFactor >= 0 && minFactor <= 1, "minFactor", `must be in [0, 1], got ${minFactor}`);
  return (step) => {
    if (step < warmupSteps) return step / warmupSteps;
    const progress = Math.min(1, (step - warmupSteps) / (totalSteps - warmupSteps));
    return minFactor + (1 - minFactor) * 0.5 * (1 + Math.cos(Math.PI * progress));
  };
}

/** Options of {@link stepSchedule}. */
export interface StepScheduleOptions {
  /** Number of steps between two decays. */
  stepSize: number;
  /** Multiplicative decay applied every `stepSize` steps (default 0.1). */
  gamma?: number;
}

/** Step decay as PyTorch's `StepLR`: factor `gamma ^ floor(step / stepSize)`. */
export function stepSchedule(options: StepScheduleOptions): LearningRateSchedule {
  const { stepSize, gamma = 0.1 } = options;
  check(
    Number.isInteger(stepSize) && stepSize > 0,
    "stepSize",
    `must be a positive integer, got ${stepSize}`,
  );
  check(gamma > 0, "gamma", `must be positive, got ${gamma}`);
  return (step) => gamma ** Math.floor(step / stepSize);
}
