import * as tf from "@tensorflow/tfjs";
import { drawMaskSeed } from "../ops/dropout-scope";
import type { SeededRandom } from "./random";

/** What the training loop and {@link evaluate} pass to the model's forward function. */
export interface ForwardContext {
  /** True while training (dropout and augmentation on), false in evaluation. */
  training: boolean;
  /** Optimizer steps completed so far. */
  step: number;
  /** Current epoch (0-based). */
  epoch: number;
  /**
   * The run's seeded random stream (checkpointed with the run). Draw augmentation parameters and op seeds from it
   * so the `seed` fixes them; in evaluation it is a fresh stream that does not disturb training.
   */
  random: SeededRandom;
  /** `tf.dropout` seeded from {@link ForwardContext.random} while training; the identity in evaluation. */
  dropout<T extends tf.Tensor>(x: T, rate: number): T;
}

/** A model's forward pass: batch in, output tensor (logits, depth, …) out. Runs inside `tf.tidy`. */
export type ForwardFunction<B> = (batch: B, context: ForwardContext) => tf.Tensor;

/** A model: a forward function, or an object with a `forward` method. */
export type TrainableModel<B> = ForwardFunction<B> | { forward: ForwardFunction<B> };

/** The forward function of a {@link TrainableModel}. */
export function forwardOf<B>(model: TrainableModel<B>): ForwardFunction<B> {
  return typeof model === "function" ? model : (batch, context) => model.forward(batch, context);
}

/** Builds a {@link ForwardContext}. */
export function forwardContext(
  training: boolean,
  step: number,
  epoch: number,
  random: SeededRandom,
): ForwardContext {
  return {
    training,
    step,
    epoch,
    random,
    dropout: <T extends tf.Tensor>(x: T, rate: number): T =>
      training && rate > 0
        ? (tf.dropout(
            x,
            rate,
            undefined,
            drawMaskSeed(() => random.nextSeed()),
          ) as T)
        : x,
  };
}

/**
 * Number of examples in a batch, used for images/s: the first dimension of the batch if it is a tensor, else of
 * its first tensor-valued property; 1 when none is found.
 */
export function defaultBatchSize(batch: unknown): number {
  if (batch instanceof tf.Tensor) return batch.shape[0] ?? 1;
  if (typeof batch === "object" && batch !== null) {
    for (const value of Object.values(batch)) if (value instanceof tf.Tensor) return value.shape[0] ?? 1;
  }
  return 1;
}

/** Disposes the batch if it is a tensor, or its tensor-valued properties. */
export function disposeBatch(batch: unknown): void {
  if (batch instanceof tf.Tensor) batch.dispose();
  else if (typeof batch === "object" && batch !== null) {
    for (const value of Object.values(batch)) if (value instanceof tf.Tensor) value.dispose();
  }
}
