import type { KoraSpec } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import { linear } from "../../ops/linear";
import type { Qkv } from "../../sites/block-sites";
import { applyActivation } from "./activation";
import { lowRankDelta } from "./low-rank";

/** A projection `x·W + b` of the composition block (tfjs layout `W: [in, out]`). */
export interface Projection {
  /** Kernel `[in, out]`. */
  weight: tf.Tensor2D;
  /** Bias `[out]`, or `null` when the spec has `composition.bias: false`. */
  bias: tf.Tensor1D | null;
}

/** The low-rank pair of one of KoRA's three deltas, tfjs layout (`A: [D, r]`, `B: [r, D]`). */
export interface LowRankPair {
  /** `lora_A` transposed, `[in, r]`. */
  a: tf.Tensor2D;
  /** `lora_B` transposed, `[r, out]`. */
  b: tf.Tensor2D;
}

/** The tensors of one KoRA block. */
export interface KoraBlockWeights {
  /** Low-rank pair producing δ_q. */
  query: LowRankPair;
  /** Low-rank pair producing δ_k. */
  key: LowRankPair;
  /** Low-rank pair producing δ_v. */
  value: LowRankPair;
  /** The CompositionBlock: `fc1`/`fc2` (mlp) or `query`/`key`/`value`/`output` (attention). */
  composition: Record<string, Projection>;
  /** The gate `[1]` or `[D]` (learnable), a fixed number (`mode: "fixed"`), or `null` (`mode: "none"`). */
  gate: tf.Tensor1D | number | null;
}

/** The parts of a {@link KoraSpec} the forward pass needs. */
export type KoraMathSpec = Pick<KoraSpec, "composition" | "apply"> & {
  /** `s = α/r` or `α/√r`. */
  scale: number;
};

function project(x: tf.Tensor2D, p: Projection | undefined): tf.Tensor2D {
  if (p === undefined) throw new Error("KoRA composition projection missing");
  return linear(x, p.weight, p.bias);
}

/**
 * The composed delta `δ_c` of KoRA from the three deltas (each `[n, D]`).
 *
 * - `mlp`: `δ_c = σ([δ_q; δ_k; δ_v]·W₁ + b₁)·W₂ + b₂`.
 * - `attention`: the three deltas are three tokens `t_j`; keys `k_j = t_j·W_k + b_k`, values `u_j = t_j·W_v + b_v`
 *   and the value token's query `q = δ_v·W_q + b_q` (all h wide); weights `p = softmax_j(q·k_j / √h)`;
 *   `δ_c = (Σ_j p_j u_j)·W_o + b_o`. Only the value token's output is needed (it feeds the value path), so the
 *   other two tokens' queries are never computed.
 */
export function composeDeltas(
  deltas: readonly [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D],
  composition: Record<string, Projection>,
  spec: KoraMathSpec["composition"],
): tf.Tensor2D {
  return tf.tidy(() => {
    if (spec.kind === "mlp") {
      const hidden = applyActivation(project(tf.concat([...deltas], 1), composition["fc1"]), spec.activation);
      return project(hidden, composition["fc2"]);
    }
    const query = project(deltas[2], composition["query"]);
    const scale = 1 / Math.sqrt(spec.hidden);
    const scores = deltas.map((t) =>
      tf.mul(tf.sum(tf.mul(query, project(t, composition["key"])), 1, true), scale),
    );
    const weights = tf.softmax(tf.concat(scores, 1)); // [n, 3]
    const mixed = deltas
      .map((t, j) => tf.mul(tf.slice(weights, [0, j], [-1, 1]), project(t, composition["value"])))
      .reduce((sum, term) => tf.add(sum, term)) as tf.Tensor2D;
    return project(mixed, composition["output"]);
  });
}

/**
 * KoRA's three low-rank deltas `δ_t = s·(x·A_t)·B_t` of the adapter input `x: [n, D]` (already dropped out) and
 * the gated composed delta `g·δ_c` (`δ_c` alone when the gate mode is `"none"`).
 */
export function koraDeltas(
  x: tf.Tensor2D,
  weights: KoraBlockWeights,
  spec: KoraMathSpec,
): { deltas: [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D]; gated: tf.Tensor2D } {
  return tf.tidy(() => {
    const deltas = [weights.query, weights.key, weights.value].map((p) =>
      lowRankDelta(x, p.a, p.b, spec.scale),
    ) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const composed = composeDeltas(deltas, weights.composition, spec.composition);
    const gated = weights.gate === null ? composed : (tf.mul(composed, weights.gate) as tf.Tensor2D);
    return { deltas, gated };
  });
}

/**
 * KoRA on one block: `v' = v + g·δ_c` (with `apply: "qkv"` also `q' = q + δ_q`, `k' = k + δ_k`,
 * `v' = v + δ_v + g·δ_c`), see {@link koraDeltas}.
 */
export function koraQkv(x: tf.Tensor2D, qkv: Qkv, weights: KoraBlockWeights, spec: KoraMathSpec): Qkv {
  return tf.tidy(() => {
    if (spec.apply === "value" && spec.composition.kind === "mlp") {
      return { q: qkv.q, k: qkv.k, v: tf.add(qkv.v, koraGatedValueDelta(x, weights, spec)) as tf.Tensor2D };
    }
    const { deltas, gated } = koraDeltas(x, weights, spec);
    if (spec.apply === "value") return { q: qkv.q, k: qkv.k, v: tf.add(qkv.v, gated) as tf.Tensor2D };
    return {
      q: tf.add(qkv.q, deltas[0]) as tf.Tensor2D,
      k: tf.add(qkv.k, deltas[1]) as tf.Tensor2D,
      v: tf.add(tf.add(qkv.v, deltas[2]), gated) as tf.Tensor2D,
    };
  });
}

/**
 * `g·δ_c` of the `mlp` composition without forming the three `[n, D]` deltas: the first composition layer is
 * linear, so `[δ_q; δ_k; δ_v]·W₁ = Σ_t s·(x·A_t)·(B_t·W₁,t)` with `W₁,t` the rows of `W₁` that read `δ_t`. With
 * `A = [A_q A_k A_v]` (`[D, 3r]`) and `F = [B_q·W₁,q; B_k·W₁,k; B_v·W₁,v]` (`[3r, h]`) the hidden layer is
 * `σ(s·(x·A)·F + b₁)`: one `[n, D]×[D, 3r]` matmul instead of six `[n, ·]` ones, no `[n, 3D]` concatenation
 * (whose gradient is a slow split on wasm). Equal to {@link koraDeltas}'s `gated` up to float32 reassociation.
 */
function koraGatedValueDelta(x: tf.Tensor2D, weights: KoraBlockWeights, spec: KoraMathSpec): tf.Tensor2D {
  const fc1 = weights.composition["fc1"];
  const fc2 = weights.composition["fc2"];
  if (fc1 === undefined || fc2 === undefined) throw new Error("KoRA composition projection missing");
  const pairs = [weights.query, weights.key, weights.value];
  const width = weights.query.b.shape[1];
  const a = tf.concat(
    pairs.map((p) => p.a),
    1,
  ) as tf.Tensor2D;
  const folded = tf.concat(
    pairs.map((p, t) => linear(p.b, tf.slice(fc1.weight, [t * width, 0], [width, -1]) as tf.Tensor2D)),
    0,
  ) as tf.Tensor2D;
  const lowRank = tf.mul(linear(x, a), spec.scale) as tf.Tensor2D;
  const hidden = applyActivation(linear(lowRank, folded, fc1.bias), spec.composition.activation);
  const composed = linear(hidden, fc2.weight, fc2.bias);
  return weights.gate === null ? composed : (tf.mul(composed, weights.gate) as tf.Tensor2D);
}
