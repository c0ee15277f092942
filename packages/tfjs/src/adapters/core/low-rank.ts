import * as tf from "@tensorflow/tfjs";
import { drawMaskSeed, scopedMaskSeed } from "../../ops/dropout-scope";
import { linear } from "../../ops/linear";

/**
 * The low-rank delta `s · (x·A)·B` for `x: [n, in]`, `A: [in, r]`, `B: [r, out]` (tfjs layout of peft's
 * `lora_A.weight [r, in]` and `lora_B.weight [out, r]`). The scaling is applied to the `[n, r]` intermediate,
 * the cheapest place.
 */
export function lowRankDelta(x: tf.Tensor2D, a: tf.Tensor2D, b: tf.Tensor2D, scale: number): tf.Tensor2D {
  return tf.tidy(() => linear(tf.mul(linear(x, a), scale) as tf.Tensor2D, b));
}

/** A variable seen as the `Tensor2D` it holds (tfjs types variables as plain `Variable<Rank>`). */
export function asMatrix(variable: tf.Variable): tf.Tensor2D {
  return variable as tf.Tensor as tf.Tensor2D;
}

/** A variable seen as the `Tensor1D` it holds. */
export function asVector(variable: tf.Variable): tf.Tensor1D {
  return variable as tf.Tensor as tf.Tensor1D;
}

/**
 * Seeded inverted dropout for adapter inputs. Inside a {@link withDropoutScope} (every micro-batch of `train()`),
 * a mask is a pure function of (run seed, step, micro-batch, this dropout's seed, site, call index at the site),
 * so a resumed run draws the masks the uninterrupted run drew. Outside a scope (a hand-written loop that sets
 * none) masks fall back to `seed` and a per-instance call counter: reproducible from construction within one
 * process, but not across a resume. Identity when not training or when `rate` is 0.
 */
export class SeededDropout {
  private calls = 0;

  constructor(
    /** Drop probability in [0, 1). */
    readonly rate: number,
    /** Base seed of the masks (the adapter's seed). */
    readonly seed: number,
  ) {}

  /**
   * Applies dropout to `x` when `training` and `rate > 0`, otherwise returns `x`. `site` names where in the
   * model the mask applies (e.g. `"3.query"`), so sites of one forward pass get independent masks.
   */
  apply<T extends tf.Tensor>(x: T, training: boolean, site: string): T {
    if (!training || this.rate === 0) return x;
    const seed = drawMaskSeed(() => {
      const scoped = scopedMaskSeed(this.seed, site);
      if (scoped !== null) return scoped;
      this.calls += 1;
      return this.seed * 7919 + this.calls;
    });
    return tf.dropout(x, this.rate, undefined, seed) as T;
  }
}
