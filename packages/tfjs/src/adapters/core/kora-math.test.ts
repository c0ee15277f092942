import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { type KoraBlockWeights, koraDeltas, koraQkv } from "./kora-math";

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
