import type * as tf from "@tensorflow/tfjs";
import type { LinearSite } from "./linear-site";

/** Query, key and value projections of one block, each `[n, D]` (heads not yet split). */
export interface Qkv {
  /** Queries `[n, D]`. */
  q: tf.Tensor2D;
  /** Keys `[n, D]`. */
  k: tf.Tensor2D;
  /** Values `[n, D]`. */
  v: tf.Tensor2D;
}

/**
 * A hook that sees a block's attention input `x: [n, D]` (after the first LayerNorm) and the q/k/v projections
 * (each already including its own {@link LinearSite} delta hook) and returns the q/k/v the attention uses. KoRA
 * installs one of these to add its composed delta to the value path.
 */
export type QkvHook = (input: tf.Tensor2D, qkv: Qkv, training: boolean) => Qkv;

/**
 * A hook on a block's feed-forward output: given the FFN input `hidden: [n, D]` (the residual stream after
 * attention, before the second LayerNorm) and the FFN output `[n, D]`, it returns the FFN output to add to the
 * residual. AdapterFusion installs one of these (bottleneck adapters after the FFN, fused per token).
 */
export type FeedForwardHook = (hidden: tf.Tensor2D, output: tf.Tensor2D, training: boolean) => tf.Tensor2D;

/** The attention adapter sites of one block: its query/key/value/output projections and a q/k/v hook. */
export class AttentionSite {
  /** KoRA's hook (or any method that needs the three projections at once), or `null`. */
  qkvHook: QkvHook | null = null;

  constructor(
    /** Block index. */
    readonly layer: number,
    /** Query projection. */
    readonly query: LinearSite,
    /** Key projection. */
    readonly key: LinearSite,
    /** Value projection. */
    readonly value: LinearSite,
    /** Attention output projection. */
    readonly output: LinearSite,
  ) {}

  /** Projects `x: [n, D]` to q, k, v through the three sites and then the q/k/v hook. */
  projectQkv(x: tf.Tensor2D, training: boolean): Qkv {
    const qkv = {
      q: this.query.apply(x, training),
      k: this.key.apply(x, training),
      v: this.value.apply(x, training),
    };
    return this.qkvHook === null ? qkv : this.qkvHook(x, qkv, training);
  }
}

/** The MLP adapter sites of one block: fc1, fc2 and a hook on the feed-forward output. */
export class MlpSite {
  /** AdapterFusion's hook, or `null`. */
  feedForwardHook: FeedForwardHook | null = null;

  constructor(
    /** Block index. */
    readonly layer: number,
    /** First MLP projection `D → M`. */
    readonly fc1: LinearSite,
    /** Second MLP projection `M → D`. */
    readonly fc2: LinearSite,
  ) {}

  /** Applies the feed-forward hook (identity when none) to the FFN output. */
  finish(hidden: tf.Tensor2D, output: tf.Tensor2D, training: boolean): tf.Tensor2D {
    return this.feedForwardHook === null ? output : this.feedForwardHook(hidden, output, training);
  }
}
