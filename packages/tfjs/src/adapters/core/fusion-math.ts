import type { AdapterFusionSpec } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import { linear } from "../../ops/linear";
import { applyActivation } from "./activation";
import type { Projection } from "./kora-math";

/** One bottleneck adapter `h ← (σ(h·W_down + b_down))·W_up + b_up + h` (tfjs layout). */
export interface BottleneckWeights {
  /** Down projection `[D, b]` + bias `[b]`. */
  down: Projection;
  /** Up projection `[b, D]` + bias `[D]`. */
  up: Projection;
}

/** The tensors of AdapterFusion on one block. */
export interface FusionBlockWeights {
  /** The N bottleneck adapters, in spec order. */
  adapters: BottleneckWeights[];
  /** Query projection `[D, a]` (reads the block's hidden state). */
  query: Projection;
  /** Key projection `[D, a]` (reads each adapter's output). */
  key: Projection;
  /** Value projection `[D, D]` (dynamic variant), or `null` (static). */
  value: Projection | null;
}

/**
 * AdapterFusion after a block's FFN (Pfeiffer et al. 2021). With `o` the FFN output and `h` the block's hidden
 * state (the FFN's residual input):
 * `a_i = o + σ(o·W_down,i + b_down,i)·W_up,i + b_up,i` for each adapter,
 * `p_i = softmax_i((h·W_Q + b_Q)·(a_i·W_K + b_K))` per token (no temperature and no 1/√a, as AdapterHub),
 * and the new FFN output is `Σ_i p_i a_i` (static) or `(Σ_i p_i a_i)·W_V + b_V` (dynamic; the same as weighting
 * `a_i·W_V + b_V` because `Σ p_i = 1`, one matmul instead of N).
 */
export function fuseAdapters(
  hidden: tf.Tensor2D,
  output: tf.Tensor2D,
  weights: FusionBlockWeights,
  activation: AdapterFusionSpec["activation"],
): tf.Tensor2D {
  return tf.tidy(() => {
    const adapted = weights.adapters.map(({ down, up }) =>
      tf.add(
        output,
        linear(applyActivation(linear(output, down.weight, down.bias), activation), up.weight, up.bias),
      ),
    ) as tf.Tensor2D[];
    const query = linear(hidden, weights.query.weight, weights.query.bias);
    const scores = adapted.map((a) =>
      tf.sum(tf.mul(query, linear(a, weights.key.weight, weights.key.bias)), 1, true),
    );
    const probabilities = tf.softmax(tf.concat(scores, 1)); // [n, N]
    const fused = adapted
      .map((a, i) => tf.mul(tf.slice(probabilities, [0, i], [-1, 1]), a))
      .reduce((sum, term) => tf.add(sum, term)) as tf.Tensor2D;
    return weights.value === null ? fused : linear(fused, weights.value.weight, weights.value.bias);
  });
}
