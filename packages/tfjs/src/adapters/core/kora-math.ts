import { compositionBasis, type KoraSpec } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import { linear } from "../../ops/linear";
import type { Qkv } from "../../sites/block-sites";
import { applyBasis, type BasisWeights } from "./basis";
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
  /** The learnable basis between `fc1` and `fc2` (`composition.basis` `"rbf"` or `"bspline"`); absent when fixed. */
  basis?: BasisWeights;
  /**
   * The gate `[1]` or `[D]` (learnable), a fixed number (`mode: "fixed"`), or `null` (`mode: "none"`). Unused with
   * `apply: "composed-qkv"`, which reads {@link KoraBlockWeights.gates}.
   */
  gate: Gate;
  /** The three gates of `apply: "composed-qkv"` (g_q, g_k, g_v), each as {@link KoraBlockWeights.gate}. */
  gates?: { query: Gate; key: Gate; value: Gate };
}

/** A gate: a learnable tensor `[1]` or `[D]`, a fixed number, or `null` for no gate. */
export type Gate = tf.Tensor1D | number | null;

function applyGate(delta: tf.Tensor2D, gate: Gate): tf.Tensor2D {
  return gate === null ? delta : (tf.mul(delta, gate) as tf.Tensor2D);
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
 * The attention composition's output at token `token` (0 q, 1 k, 2 v) of the three delta tokens, given their
 * keys and values: `(Σ_j p_j u_j)·W_o + b_o` with `p = softmax_j(q·k_j / √h)` and `q` the token's query.
 */
function attentionReadout(
  deltas: readonly [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D],
  keys: tf.Tensor2D[],
  values: tf.Tensor2D[],
  composition: Record<string, Projection>,
  hidden: number,
  token: number,
): tf.Tensor2D {
  const query = project(deltas[token] as tf.Tensor2D, composition["query"]);
  const scale = 1 / Math.sqrt(hidden);
  const scores = keys.map((k) => tf.mul(tf.sum(tf.mul(query, k), 1, true), scale));
  const weights = tf.softmax(tf.concat(scores, 1)); // [n, 3]
  const mixed = values
    .map((u, j) => tf.mul(tf.slice(weights, [0, j], [-1, 1]), u))
    .reduce((sum, term) => tf.add(sum, term)) as tf.Tensor2D;
  return project(mixed, composition["output"]);
}

/**
 * The composition's output from the three deltas (each `[n, D]`): `[n, D]` (`δ_c`), or with `outputs: 3` the
 * three `[n, D]` outputs `δ'_q, δ'_k, δ'_v` of `apply: "composed-qkv"`.
 *
 * - `mlp`: `σ([δ_q; δ_k; δ_v]·W₁ + b₁)·W₂ + b₂` (σ the fixed activation or the learnable basis); with three
 *   outputs `W₂` is `[h, 3D]` and its columns `0…D−1`, `D…2D−1`, `2D…3D−1` give δ'_q, δ'_k, δ'_v.
 * - `attention`: the three deltas are three tokens `t_j`; keys `k_j = t_j·W_k + b_k`, values `u_j = t_j·W_v + b_v`
 *   and a token's query `q = t·W_q + b_q` (all h wide); weights `p = softmax_j(q·k_j / √h)`; output
 *   `(Σ_j p_j u_j)·W_o + b_o`. `δ_c` is the value token's output (the other two queries are never computed);
 *   with three outputs each token reads out its own.
 */
export function composeDeltas(
  deltas: readonly [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D],
  composition: Record<string, Projection>,
  spec: KoraMathSpec["composition"],
  basis?: BasisWeights,
): tf.Tensor2D;
export function composeDeltas(
  deltas: readonly [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D],
  composition: Record<string, Projection>,
  spec: KoraMathSpec["composition"],
  basis: BasisWeights | undefined,
  outputs: 3,
): [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
export function composeDeltas(
  deltas: readonly [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D],
  composition: Record<string, Projection>,
  spec: KoraMathSpec["composition"],
  basis?: BasisWeights,
  outputs: 1 | 3 = 1,
): tf.Tensor2D | [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D] {
  return tf.tidy(() => {
    if (spec.kind === "mlp") {
      const z = project(tf.concat([...deltas], 1), composition["fc1"]);
      const out = project(
        applyBasis(z, compositionBasis(spec), spec.activation, basis ?? null),
        composition["fc2"],
      );
      return outputs === 1 ? out : (tf.split(out, 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D]);
    }
    const keys = deltas.map((t) => project(t, composition["key"]));
    const values = deltas.map((t) => project(t, composition["value"]));
    const readout = (token: number) =>
      attentionReadout(deltas, keys, values, composition, spec.hidden, token);
    return outputs === 1 ? readout(2) : [readout(0), readout(1), readout(2)];
  });
}

function lowRankDeltas(x: tf.Tensor2D, weights: KoraBlockWeights, scale: number) {
  return [weights.query, weights.key, weights.value].map((p) => lowRankDelta(x, p.a, p.b, scale)) as [
    tf.Tensor2D,
    tf.Tensor2D,
    tf.Tensor2D,
  ];
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
    const deltas = lowRankDeltas(x, weights, spec.scale);
    const composed = composeDeltas(deltas, weights.composition, spec.composition, weights.basis);
    return { deltas, gated: applyGate(composed, weights.gate) };
  });
}

function composedGates(weights: KoraBlockWeights): [Gate, Gate, Gate] {
  if (weights.gates === undefined) throw new Error('KoRA apply "composed-qkv" needs three gates');
  return [weights.gates.query, weights.gates.key, weights.gates.value];
}

/**
 * `apply: "composed-qkv"` by its definition: the three deltas, the composition's three outputs
 * `δ'_q, δ'_k, δ'_v` and each through its own gate, `[g_q·δ'_q, g_k·δ'_k, g_v·δ'_v]`.
 */
export function koraComposedDeltas(
  x: tf.Tensor2D,
  weights: KoraBlockWeights,
  spec: KoraMathSpec,
): [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D] {
  return tf.tidy(() => {
    const outputs = composeDeltas(
      lowRankDeltas(x, weights, spec.scale),
      weights.composition,
      spec.composition,
      weights.basis,
      3,
    );
    const gates = composedGates(weights);
    return outputs.map((o, t) => applyGate(o, gates[t] as Gate)) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
  });
}

/**
 * KoRA on one block: `v' = v + g·δ_c` (with `apply: "qkv"` also `q' = q + δ_q`, `k' = k + δ_k`,
 * `v' = v + δ_v + g·δ_c`; with `apply: "composed-qkv"` `q' = q + g_q·δ'_q`, `k' = k + g_k·δ'_k`,
 * `v' = v + g_v·δ'_v`), see {@link koraDeltas} and {@link koraComposedDeltas}.
 */
export function koraQkv(x: tf.Tensor2D, qkv: Qkv, weights: KoraBlockWeights, spec: KoraMathSpec): Qkv {
  return tf.tidy(() => {
    if (spec.apply === "composed-qkv") {
      let gated: tf.Tensor2D[];
      if (spec.composition.kind === "mlp") {
        const outputs = tf.split(foldedMlpComposition(x, weights, spec), 3, 1) as tf.Tensor2D[];
        const gates = composedGates(weights);
        gated = outputs.map((o, t) => applyGate(o, gates[t] as Gate));
      } else {
        gated = koraComposedDeltas(x, weights, spec);
      }
      return {
        q: tf.add(qkv.q, gated[0] as tf.Tensor2D) as tf.Tensor2D,
        k: tf.add(qkv.k, gated[1] as tf.Tensor2D) as tf.Tensor2D,
        v: tf.add(qkv.v, gated[2] as tf.Tensor2D) as tf.Tensor2D,
      };
    }
    if (spec.apply === "value" && spec.composition.kind === "mlp") {
      const gated = applyGate(foldedMlpComposition(x, weights, spec), weights.gate);
      return { q: qkv.q, k: qkv.k, v: tf.add(qkv.v, gated) as tf.Tensor2D };
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
 * The `mlp` composition's output (ungated: `δ_c`, or `[δ'_q δ'_k δ'_v]` side by side for composed-qkv) without
 * forming the three `[n, D]` deltas: the first composition layer is
 * linear, so `[δ_q; δ_k; δ_v]·W₁ = Σ_t s·(x·A_t)·(B_t·W₁,t)` with `W₁,t` the rows of `W₁` that read `δ_t`. With
 * `A = [A_q A_k A_v]` (`[D, 3r]`) and `F = [B_q·W₁,q; B_k·W₁,k; B_v·W₁,v]` (`[3r, h]`) the hidden layer is
 * `σ(s·(x·A)·F + b₁)`: one `[n, D]×[D, 3r]` matmul instead of six `[n, ·]` ones, no `[n, 3D]` concatenation
 * (whose gradient is a slow split on wasm). Equal to {@link composeDeltas} of the three deltas up to float32
 * reassociation.
 */
function foldedMlpComposition(x: tf.Tensor2D, weights: KoraBlockWeights, spec: KoraMathSpec): tf.Tensor2D {
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
  const hidden = applyBasis(
    linear(lowRank, folded, fc1.bias),
    compositionBasis(spec.composition),
    spec.composition.activation,
    weights.basis ?? null,
  );
  return linear(hidden, fc2.weight, fc2.bias);
}
