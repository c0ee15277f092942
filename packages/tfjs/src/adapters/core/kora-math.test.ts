import type { CompositionBasis } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { composeDeltas, type KoraBlockWeights, koraComposedDeltas, koraDeltas, koraQkv } from "./kora-math";

function seeded(shape: number[], seed: number, scale = 1): tf.Tensor {
  return tf.mul(tf.randomUniform(shape, -1, 1, "float32", seed), scale);
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);
}

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("koraQkv's folded value path (apply = value, mlp composition)", () => {
  const n = 6;
  const d = 10;
  const r = 3;
  const h = 4;
  const spec = {
    scale: 0.7,
    apply: "value" as const,
    composition: { kind: "mlp" as const, hidden: h, activation: "gelu" as const, bias: true },
  };
  // [x, A_q, B_q, A_k, B_k, A_v, B_v, W1, b1, W2, b2, gate, q, k, v]
  const inputs = (): tf.Tensor[] => [
    seeded([n, d], 1),
    seeded([d, r], 2),
    seeded([r, d], 3),
    seeded([d, r], 4),
    seeded([r, d], 5),
    seeded([d, r], 6),
    seeded([r, d], 7),
    seeded([3 * d, h], 8),
    seeded([h], 9),
    seeded([h, d], 10),
    seeded([d], 11),
    seeded([1], 12),
    seeded([n, d], 13),
    seeded([n, d], 14),
    seeded([n, d], 15),
  ];
  const weightsOf = (t: tf.Tensor[]): KoraBlockWeights => ({
    query: { a: t[1] as tf.Tensor2D, b: t[2] as tf.Tensor2D },
    key: { a: t[3] as tf.Tensor2D, b: t[4] as tf.Tensor2D },
    value: { a: t[5] as tf.Tensor2D, b: t[6] as tf.Tensor2D },
    composition: {
      fc1: { weight: t[7] as tf.Tensor2D, bias: t[8] as tf.Tensor1D },
      fc2: { weight: t[9] as tf.Tensor2D, bias: t[10] as tf.Tensor1D },
    },
    gate: t[11] as tf.Tensor1D,
  });
  const folded = (...t: tf.Tensor[]) => {
    const qkv = { q: t[12] as tf.Tensor2D, k: t[13] as tf.Tensor2D, v: t[14] as tf.Tensor2D };
    const out = koraQkv(t[0] as tf.Tensor2D, qkv, weightsOf(t), spec);
    return tf.concat([out.q, out.k, out.v], 1);
  };
  // The unoptimised definition: the three [n, D] deltas, concatenated, through the composition MLP.
  const reference = (...t: tf.Tensor[]) => {
    const { gated } = koraDeltas(t[0] as tf.Tensor2D, weightsOf(t), spec);
    return tf.concat([t[12] as tf.Tensor, t[13] as tf.Tensor, tf.add(t[14] as tf.Tensor, gated)], 1);
  };

  it("equals the three-delta definition to 1e-5, with every gradient to 1e-5", () => {
    tf.tidy(() => {
      const xs = inputs();
      const value = folded(...xs);
      expect(maxAbsDiff(value, reference(...xs))).toBeLessThan(1e-5);
      // The gate is non-zero here, so the composed delta really is part of the compared output.
      expect(maxAbsDiff(value, tf.concat(xs.slice(12), 1))).toBeGreaterThan(1e-2);
      const dy = seeded(value.shape, 16);
      const ours = tf.grads(folded)(xs, dy);
      const expected = tf.grads(reference)(xs, dy);
      ours.forEach((g, i) => {
        const e = expected[i] as tf.Tensor;
        expect(g.shape).toEqual(e.shape);
        expect(maxAbsDiff(g, e)).toBeLessThan(1e-5);
      });
    });
  });
});

describe('koraQkv with apply "composed-qkv"', () => {
  const n = 5;
  const d = 6;
  const r = 2;
  const h = 3;
  const mlp = (basis?: CompositionBasis) => ({
    scale: 0.8,
    apply: "composed-qkv" as const,
    composition: {
      kind: "mlp" as const,
      hidden: h,
      activation: "tanh" as const,
      bias: true,
      ...(basis === undefined ? {} : { basis }),
    },
  });
  const rbf: CompositionBasis = { kind: "rbf", grid: 4, range: [-1, 1] };
  // [x, A_q, B_q, A_k, B_k, A_v, B_v, W1, b1, W2 [h, 3D], b2 [3D], g_q, g_k, g_v, q, k, v, coefficients [G, h]]
  const inputs = (): tf.Tensor[] => [
    seeded([n, d], 21),
    seeded([d, r], 22),
    seeded([r, d], 23),
    seeded([d, r], 24),
    seeded([r, d], 25),
    seeded([d, r], 26),
    seeded([r, d], 27),
    seeded([3 * d, h], 28),
    seeded([h], 29),
    seeded([h, 3 * d], 30),
    seeded([3 * d], 31),
    seeded([1], 32),
    seeded([d], 33),
    seeded([1], 34),
    seeded([n, d], 35),
    seeded([n, d], 36),
    seeded([n, d], 37),
    seeded([4, h], 38),
  ];
  const weightsOf = (t: tf.Tensor[], withBasis: boolean): KoraBlockWeights => ({
    query: { a: t[1] as tf.Tensor2D, b: t[2] as tf.Tensor2D },
    key: { a: t[3] as tf.Tensor2D, b: t[4] as tf.Tensor2D },
    value: { a: t[5] as tf.Tensor2D, b: t[6] as tf.Tensor2D },
    composition: {
      fc1: { weight: t[7] as tf.Tensor2D, bias: t[8] as tf.Tensor1D },
      fc2: { weight: t[9] as tf.Tensor2D, bias: t[10] as tf.Tensor1D },
    },
    gate: null,
    gates: { query: t[11] as tf.Tensor1D, key: t[12] as tf.Tensor1D, value: t[13] as tf.Tensor1D },
    ...(withBasis ? { basis: { coefficients: t[17] as tf.Tensor2D, base: null } } : {}),
  });

  for (const basis of [undefined, rbf]) {
    it(`mlp${basis === undefined ? "" : " with an rbf basis"}: the folded path equals the definition to 1e-5, every gradient too`, () => {
      tf.tidy(() => {
        const spec = mlp(basis);
        const qkvOf = (t: tf.Tensor[]) => ({
          q: t[14] as tf.Tensor2D,
          k: t[15] as tf.Tensor2D,
          v: t[16] as tf.Tensor2D,
        });
        const folded = (...t: tf.Tensor[]) => {
          const out = koraQkv(t[0] as tf.Tensor2D, qkvOf(t), weightsOf(t, basis !== undefined), spec);
          return tf.concat([out.q, out.k, out.v], 1);
        };
        const reference = (...t: tf.Tensor[]) => {
          const gated = koraComposedDeltas(t[0] as tf.Tensor2D, weightsOf(t, basis !== undefined), spec);
          return tf.concat(
            gated.map((g, i) => tf.add(t[14 + i] as tf.Tensor, g)),
            1,
          );
        };
        // Without a basis the coefficients are not read, and tf.grads refuses an unused input.
        const xs = basis === undefined ? inputs().slice(0, 17) : inputs();
        const value = folded(...xs);
        expect(maxAbsDiff(value, reference(...xs))).toBeLessThan(1e-5);
        // All three projections really moved (the gates are non-zero here).
        for (let i = 0; i < 3; i++) {
          const moved = maxAbsDiff(tf.slice(value, [0, i * d], [-1, d]), xs[14 + i] as tf.Tensor);
          expect(moved, `projection ${i}`).toBeGreaterThan(1e-2);
        }
        const dy = seeded(value.shape, 39);
        const ours = tf.grads(folded)(xs, dy);
        const expected = tf.grads(reference)(xs, dy);
        ours.forEach((g, i) => {
          expect(maxAbsDiff(g, expected[i] as tf.Tensor), `input ${i}`).toBeLessThan(1e-5);
        });
      });
    });
  }

  it("mlp: δ'_v is apply value's δ_c with fc2's last D columns, δ'_q its first D columns", () => {
    tf.tidy(() => {
      const t = inputs();
      const [dq, , dv] = koraComposedDeltas(
        t[0] as tf.Tensor2D,
        { ...weightsOf(t, false), gates: { query: null, key: null, value: null } },
        mlp(),
      );
      const valueSpec = { ...mlp(), apply: "value" as const };
      const columns = (from: number): KoraBlockWeights => ({
        ...weightsOf(t, false),
        composition: {
          fc1: { weight: t[7] as tf.Tensor2D, bias: t[8] as tf.Tensor1D },
          fc2: {
            weight: tf.slice(t[9] as tf.Tensor2D, [0, from], [-1, d]),
            bias: tf.slice(t[10] as tf.Tensor1D, [from], [d]),
          },
        },
        gate: null,
      });
      expect(maxAbsDiff(dv, koraDeltas(t[0] as tf.Tensor2D, columns(2 * d), valueSpec).gated)).toBeLessThan(
        1e-6,
      );
      expect(maxAbsDiff(dq, koraDeltas(t[0] as tf.Tensor2D, columns(0), valueSpec).gated)).toBeLessThan(1e-6);
    });
  });

  it("attention: the value read-out is apply value's δ_c, and the query token's read-out is the value read-out of the tokens reordered (v, k, q)", () => {
    tf.tidy(() => {
      const deltas = [seeded([n, d], 41), seeded([n, d], 42), seeded([n, d], 43)] as [
        tf.Tensor2D,
        tf.Tensor2D,
        tf.Tensor2D,
      ];
      const projection = (seed: number, rows: number, cols: number) => ({
        weight: seeded([rows, cols], seed) as tf.Tensor2D,
        bias: seeded([cols], seed + 100) as tf.Tensor1D,
      });
      const composition = {
        query: projection(44, d, h),
        key: projection(45, d, h),
        value: projection(46, d, h),
        output: projection(47, h, d),
      };
      const spec = { kind: "attention" as const, hidden: h, activation: "gelu" as const, bias: true };
      const [q, k, v] = composeDeltas(deltas, composition, spec, undefined, 3);
      expect(maxAbsDiff(v, composeDeltas(deltas, composition, spec))).toBeLessThan(1e-6);
      const reordered = composeDeltas([deltas[2], deltas[1], deltas[0]], composition, spec);
      expect(maxAbsDiff(q, reordered)).toBeLessThan(1e-6);
      const keyFirst = composeDeltas([deltas[0], deltas[2], deltas[1]], composition, spec);
      expect(maxAbsDiff(k, keyFirst)).toBeLessThan(1e-6);
      // The three read-outs differ: each token attends with its own query.
      expect(maxAbsDiff(q, v)).toBeGreaterThan(1e-3);
    });
  });
});
