import { KoraError } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import type { TfjsErrorCode } from "../errors";
import {
  checkNonNegative,
  type GradientEntry,
  type Optimizer,
  type OptimizerOptions,
  SlotOptimizer,
} from "./optimizer";

/** Options of {@link sgd}. */
export interface SgdOptions extends OptimizerOptions {
  /** Momentum factor (default 0: plain SGD). */
  momentum?: number;
  /** Dampening of the momentum (default 0). */
  dampening?: number;
  /** Nesterov momentum (default false; needs `momentum > 0` and `dampening = 0`, as PyTorch). */
  nesterov?: boolean;
  /** Default weight decay, added to the gradient as L2 (`g + wd·p`, PyTorch's SGD; default 0). */
  weightDecay?: number;
}

class Sgd extends SlotOptimizer {
  readonly kind = "sgd";
  private readonly momentum: number;
  private readonly dampening: number;
  private readonly nesterov: boolean;

  constructor(options: SgdOptions) {
    super(options);
    this.momentum = options.momentum ?? 0;
    this.dampening = options.dampening ?? 0;
    this.nesterov = options.nesterov ?? false;
    checkNonNegative(this.momentum, "momentum");
    checkNonNegative(this.dampening, "dampening");
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new KoraError<TfjsErrorCode>({
        code: "INVALID_ARGUMENT",
        message: "nesterov needs momentum > 0 and dampening = 0",
        path: "nesterov",
      });
    }
  }

  protected update(
    entry: GradientEntry,
    slots: ReadonlyMap<string, tf.Tensor>,
    _step: number,
    learningRate: number,
    weightDecay: number,
  ): { value: tf.Tensor; slots: Record<string, tf.Tensor> } {
    // torch.optim.SGD: g ← g + wd·p; buf ← g (first step) or μ·buf + (1 − dampening)·g;
    // g ← g + μ·buf (nesterov) or buf; p ← p − lr·g
    let g = entry.gradient;
    if (weightDecay !== 0) g = tf.add(g, tf.mul(entry.variable, weightDecay));
    const out: Record<string, tf.Tensor> = {};
    if (this.momentum !== 0) {
      const previous = slots.get("momentum_buffer");
      const buffer =
        previous === undefined
          ? tf.clone(g)
          : tf.add(tf.mul(previous, this.momentum), tf.mul(g, 1 - this.dampening));
      out["momentum_buffer"] = buffer;
      g = this.nesterov ? tf.add(g, tf.mul(buffer, this.momentum)) : buffer;
    }
    return { value: tf.sub(entry.variable, tf.mul(g, learningRate)), slots: out };
  }
}

/**
 * Stochastic gradient descent exactly as PyTorch's `torch.optim.SGD`: L2 weight decay added to the gradient,
 * momentum with dampening (the buffer starts as the first gradient) and optional Nesterov momentum. State slot
 * `momentum_buffer` (only with momentum).
 */
export function sgd(options: SgdOptions): Optimizer {
  return new Sgd(options);
}
