import { KoraError } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import type { TfjsErrorCode } from "../errors";
import { type GradientEntry, type Optimizer, type OptimizerOptions, SlotOptimizer } from "./optimizer";

/** Options of {@link adamW}. */
export interface AdamWOptions extends OptimizerOptions {
  /** Coefficients of the running averages of the gradient and its square (default `[0.9, 0.999]`). */
  betas?: readonly [number, number];
  /** Added to the denominator outside the square root (default 1e-8). */
  epsilon?: number;
  /** Default weight decay, decoupled from the gradient (default 0.01, as PyTorch's AdamW). */
  weightDecay?: number;
}

class AdamW extends SlotOptimizer {
  readonly kind = "adamw";
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;

  constructor(options: AdamWOptions) {
    super({ ...options, weightDecay: options.weightDecay ?? 0.01 });
    const [beta1, beta2] = options.betas ?? [0.9, 0.999];
    for (const [value, field] of [
      [beta1, "betas[0]"],
      [beta2, "betas[1]"],
    ] as const) {
      if (!(value >= 0 && value < 1)) {
        throw new KoraError<TfjsErrorCode>({
          code: "INVALID_ARGUMENT",
          message: `${field} must be in [0, 1), got ${value}`,
          path: field,
        });
      }
    }
    const epsilon = options.epsilon ?? 1e-8;
    if (!(epsilon >= 0)) {
      throw new KoraError<TfjsErrorCode>({
        code: "INVALID_ARGUMENT",
        message: `epsilon must be ≥ 0, got ${epsilon}`,
        path: "epsilon",
      });
    }
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.epsilon = epsilon;
  }

  protected update(
    entry: GradientEntry,
    slots: ReadonlyMap<string, tf.Tensor>,
    step: number,
    learningRate: number,
    weightDecay: number,
  ): { value: tf.Tensor; slots: Record<string, tf.Tensor> } {
    const g = entry.gradient;
    // torch.optim.AdamW (_single_tensor_adam, decoupled weight decay):
    //   p ← p·(1 − lr·wd); m ← lerp(m, g, 1 − β1); v ← β2·v + (1 − β2)·g²
    //   p ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)
    let p: tf.Tensor = entry.variable;
    if (weightDecay !== 0) p = tf.mul(p, 1 - learningRate * weightDecay);
    const m0 = slots.get("exp_avg") ?? tf.zerosLike(g);
    const v0 = slots.get("exp_avg_sq") ?? tf.zerosLike(g);
    const m = tf.add(m0, tf.mul(tf.sub(g, m0), 1 - this.beta1));
    const v = tf.add(tf.mul(v0, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
    const biasCorrection1 = 1 - this.beta1 ** step;
    const biasCorrection2Sqrt = Math.sqrt(1 - this.beta2 ** step);
    const stepSize = learningRate / biasCorrection1;
    const denominator = tf.add(tf.div(tf.sqrt(v), biasCorrection2Sqrt), this.epsilon);
    const value = tf.sub(p, tf.mul(tf.div(m, denominator), stepSize));
    return { value, slots: { exp_avg: m, exp_avg_sq: v } };
  }
}

/**
 * AdamW exactly as PyTorch's `torch.optim.AdamW` (Loshchilov & Hutter, decoupled weight decay; no amsgrad): per
 * variable with step count `t`, `p ← p − lr·wd·p`, then the Adam update with bias correction and ε outside the
 * square root. State slots `exp_avg`, `exp_avg_sq` (PyTorch's names) and a per-variable step.
 *
 * @example
 * ```ts
 * const optimizer = adamW({ learningRate: 1e-3, weightDecay: 0.05,
 *   groups: [{ match: /^head\//, learningRate: 1e-2 }, { match: isNoWeightDecayParameter, weightDecay: 0 }] });
 * ```
 */
export function adamW(options: AdamWOptions): Optimizer {
  return new AdamW(options);
}
