import type { ViTConfig, ViTHead, ViTOutput } from "@kora/vit";
import type * as tf from "@tensorflow/tfjs";
import type { TensorBatch } from "../batches";

/** The kinds of task this package trains. */
export type TaskKind = TensorBatch["kind"];

/**
 * A task as a value: which head it trains, which raw output of the model it reads, its one training loss and its
 * one decoding of that output into predictions. Training, evaluation and saving all go through these, so an app
 * cannot train with one reading of the output and evaluate with another.
 */
export interface Task<K extends TaskKind = TaskKind> {
  readonly kind: K;
  /** A short description for logs and reports ("cross-entropy", "L1 on log depth"). */
  readonly lossName: string;
  /** A fresh head for this task on a backbone of `config`, initialised from `seed`. */
  createHead(config: ViTConfig, seed: number): ViTHead;
  /** Checks that a head fits the task (kind, classes); throws `TASK_MISMATCH` naming `where`. */
  checkHead(head: ViTHead | null, where: string): void;
  /** The head's raw output in a forward pass (logits, log-depth, or per-pixel class logits). */
  rawOutput(output: ViTOutput): tf.Tensor;
  /** The training loss (a scalar, mean over the batch) of the raw output. */
  loss(raw: tf.Tensor, batch: Extract<TensorBatch, { kind: K }>): tf.Scalar;
  /**
   * The prediction the raw output stands for: class ids `[B]` int32, depth in metres `[B, H, W, 1]`, or per-pixel
   * class ids `[B, H, W]` int32.
   */
  decode(raw: tf.Tensor): tf.Tensor;
  /** Depth only: the valid depth range `[min, max]` metres used for the mask and the metrics. */
  readonly depthRange?: readonly [number, number];
}
