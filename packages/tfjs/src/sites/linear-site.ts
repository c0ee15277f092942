import type { TargetModule } from "@kora/spec";
import type * as tf from "@tensorflow/tfjs";
import { linear } from "../ops/linear";

/**
 * A hook that adds to a projection's output: given the projection's input `x: [n, in]` it returns a delta
 * `[n, out]` that is added to `x·W + b`, or `null` to add nothing. LoRA installs one of these.
 */
export type LinearDeltaHook = (input: tf.Tensor2D, training: boolean) => tf.Tensor2D | null;

/** Options of the {@link LinearSite} constructor. */
export interface LinearSiteOptions {
  /** Block index. */
  layer: number;
  /** Which projection of the block this is. */
  target: TargetModule;
  /** Kernel `[in, out]` (tfjs layout; PyTorch's weight transposed). */
  kernel: tf.Variable;
  /** Bias `[out]`, or `null`. */
  bias: tf.Variable | null;
}

/**
 * The adapter-site interface of one linear projection of a backbone (backbones such as `@kora/vit` depend on it,
 * never the reverse): it owns the frozen-or-trainable kernel and bias and lets an adapter add to its output.
 * `@kora/vit` builds every query/key/value/output/fc1/fc2 projection on it, so LoRA/KoRA/AdapterFusion attach
 * without the backbone knowing which method is used.
 */
export class LinearSite {
  /** Block index. */
  readonly layer: number;
  /** Which projection of the block this is. */
  readonly target: TargetModule;
  /** Kernel `[in, out]`. */
  readonly kernel: tf.Variable;
  /** Bias `[out]`, or `null`. */
  readonly bias: tf.Variable | null;
  /** The adapter hook, or `null` for the plain projection. */
  deltaHook: LinearDeltaHook | null = null;

  constructor(options: LinearSiteOptions) {
    this.layer = options.layer;
    this.target = options.target;
    this.kernel = options.kernel;
    this.bias = options.bias;
  }

  /** Input width. */
  get inFeatures(): number {
    return this.kernel.shape[0] as number;
  }

  /** Output width. */
  get outFeatures(): number {
    return this.kernel.shape[1] as number;
  }

  /** The projection without any adapter: `x·W + b`. */
  base(x: tf.Tensor2D): tf.Tensor2D {
    return linear(x, this.kernel as tf.Tensor as tf.Tensor2D, this.bias as tf.Tensor as tf.Tensor1D | null);
  }

  /** The projection with the adapter hook, if any: `x·W + b + hook(x)`. */
  apply(x: tf.Tensor2D, training: boolean): tf.Tensor2D {
    const out = this.base(x);
    const delta = this.deltaHook?.(x, training) ?? null;
    return delta === null ? out : (out.add(delta) as tf.Tensor2D);
  }
}
