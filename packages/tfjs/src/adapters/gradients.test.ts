import * as tf from "@tensorflow/tfjs";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { type AdapterSpecInput, applyAdapters, removeAdapters } from "./index";
import { checkGradients } from "./test-support/gradient-check";
import { randomizeAdapter } from "./test-support/helpers";
import { TINY_SHAPE, TinyTransformer, tinyBatch } from "./test-support/tiny-transformer";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const models: TinyTransformer[] = [];
afterEach(() => {
  for (const model of models.splice(0)) {
    removeAdapters(model);
    model.dispose();
  }
});

/**
 * Tolerances, float32 throughout (tfjs's cpu backend has no float64).
 *
 * The loss is a cross-entropy of order 1 computed in float32, so each evaluation carries ~1e-7 of rounding noise;
 * a central difference of step h divides it by 2h. Its truncation error is h²·f‴/6: measured on this model
 * (LoRA, key lora_A), the plain central difference is off by 11 % at h = 3e-2, 1.2 % at 1e-2, 0.10 % at 3e-3
 * (the h² law), and noise takes over below that (0.16 % at 1e-3). So we use ε = 1e-2 with Richardson
 * extrapolation, (4·D(ε/2) − D(ε))/3, which cancels the h² term: measured 0.06 % there. What remains is the
 * rounding noise: ~1e-6 on a loss built from ~10⁴ float32 operations, divided by 2·(ε/2) and scaled by 4/3,
 * i.e. ~1.3e-4 absolute on any finite-difference gradient (measured worst: 9.5e-5). The check:
 * - along a seeded random unit direction (every entry at once): |g·u − fd| ≤ 2e-4 + 5e-3·|g·u|;
 * - at 4 sampled entries per variable: |g_i − fd_i| ≤ 5e-3 · max(|g_i|, |fd_i|) (0.5 % relative) or
 *   |g_i − fd_i| ≤ 2e-4 (the noise floor, which decides only for entries with |g_i| below ~4e-2).
 * A gradient 2 % off fails it (tested below).
 * The adapters are first set to random values (N(0, 0.3²)): at init the gate, zero B and zero up-projections
 * would make most gradients exactly zero and the check vacuous.
 */
const EPSILON = 1e-2;
const RELATIVE = 5e-3;
const NOISE = 2e-4;

const METHODS: Record<string, AdapterSpecInput> = {
  "LoRA (every target, rsLoRA)": {
    method: "lora",
    rank: 2,
    alpha: 4,
    rslora: true,
    targets: ["query", "key", "value", "output", "fc1", "fc2"],
  },
  "KoRA (mlp, gelu, scalar gate)": { method: "kora", rank: 2, alpha: 4 },
  "KoRA (attention composition, channel gate, apply qkv)": {
    method: "kora",
    rank: 2,
    composition: { kind: "attention", hidden: 3 },
    gate: { per: "channel" },
    apply: "qkv",
  },
  "KoRA (mlp, composed-qkv, channel gates)": {
    method: "kora",
    rank: 2,
    apply: "composed-qkv",
    gate: { per: "channel" },
  },
  "KoRA (attention composition, composed-qkv)": {
    method: "kora",
    rank: 2,
    composition: { kind: "attention", hidden: 3 },
    apply: "composed-qkv",
  },
  "KoRA (mlp, rbf basis)": {
    method: "kora",
    rank: 2,
    composition: { hidden: 3, basis: { kind: "rbf", grid: 5, range: [-1, 1] } },
  },
  "KoRA (mlp, cubic B-spline basis with SiLU base, composed-qkv)": {
    method: "kora",
    rank: 2,
    composition: { hidden: 3, basis: { kind: "bspline", grid: 4, range: [-1, 1] } },
    apply: "composed-qkv",
  },
  "gated LoRA (q,v, scalar gates)": { method: "gated-lora", rank: 3, alpha: 16 },
  "gated LoRA (every target, channel gates, rsLoRA)": {
    method: "gated-lora",
    rank: 2,
    rslora: true,
    targets: ["query", "key", "value", "output", "fc1", "fc2"],
    gate: { per: "channel" },
  },
  "AdapterFusion (dynamic, gelu)": {
    method: "adapter-fusion",
    adapters: ["a", "b", "c"],
    bottleneck: 3,
    activation: "gelu",
    fusion: { variant: "dynamic" },
  },
  "AdapterFusion (static, tanh)": { method: "adapter-fusion", bottleneck: 2, activation: "tanh" },
};

describe("gradient check against central finite differences (float32)", () => {
  for (const [label, spec] of Object.entries(METHODS)) {
    it(label, () => {
      const model = new TinyTransformer(TINY_SHAPE, 3);
      models.push(model);
      const handle = applyAdapters(model, spec, { seed: 2 });
      randomizeAdapter(handle, 17);
      const x = tinyBatch(TINY_SHAPE, 2, 50);
      const labels = tf.oneHot([0, 2], TINY_SHAPE.numClasses);
      const loss = () => tf.losses.softmaxCrossEntropy(labels, model.predict(x, false)) as tf.Scalar;
      const variables = handle.trainableVariables();
      const results = checkGradients(loss, variables, {
        epsilon: EPSILON,
        richardson: true,
        entries: 4,
        floor: 1e-2,
        seed: 3,
      });
      expect(results).toHaveLength(variables.length);
      let worst = 0;
      let worstDirectional = 0;
      let worstAbs = 0;
      for (const r of results) {
        const directionalError = Math.abs(r.directional - r.directionalFd);
        expect(directionalError, r.name).toBeLessThanOrEqual(NOISE + RELATIVE * Math.abs(r.directional));
        expect(
          r.worstEntryError <= RELATIVE || r.worstEntryAbs <= NOISE,
          `${r.name}: ${r.worstEntryError}`,
        ).toBe(true);
        worst = Math.max(worst, r.worstEntryError);
        worstAbs = Math.max(worstAbs, r.worstEntryAbs, directionalError);
        worstDirectional = Math.max(
          worstDirectional,
          directionalError / Math.max(Math.abs(r.directional), 1e-3),
        );
      }
      // Non-vacuous: every variable has a sampled gradient entry above the noise floor, except the key biases of the two
      // softmax attentions (AdapterFusion's fusion.key, KoRA's attention composition.key): a key bias adds q·b_K
      // to every score of a row alike, the softmax cancels it, and its gradient is exactly 0 (the same
      // redundancy as in AdapterHub; kept because @kora/spec's layout and counts include it).
      for (const r of results) {
        const largest = Math.max(...r.entryGradients.map(Math.abs));
        if (/(fusion|composition)\.key\.bias$/.test(r.name)) expect(largest, r.name).toBeLessThan(1e-6);
        else expect(largest, r.name).toBeGreaterThan(NOISE);
      }
      console.info(
        `${label}: ${results.length} variables, worst entry relative error ${worst.toExponential(2)}, worst directional ${worstDirectional.toExponential(2)}, worst absolute ${worstAbs.toExponential(2)}`,
      );
      tf.dispose([x, labels]);
    }, 60_000);
  }
});

describe("the gradient check itself", () => {
  it("catches a gradient that is 2 % off", () => {
    const w = tf.variable(tf.randomNormal([4, 3], 0, 1, "float32", 1), true, "gradient_check_probe");
    const x = tf.randomNormal([5, 4], 0, 1, "float32", 2);
    // y = tanh(x·w) with a custom gradient scaled by 1.02: a subtle bug of the kind the check must see.
    const wrong = tf.customGrad((input, weight, save) => {
      const value = tf.tanh(tf.matMul(input as tf.Tensor2D, weight as tf.Tensor2D));
      (save as (t: tf.Tensor[]) => void)([input as tf.Tensor, value]);
      return {
        value,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [xs, y] = saved as [tf.Tensor2D, tf.Tensor2D];
          const local = tf.mul(dy, tf.sub(1, tf.square(y))) as tf.Tensor2D;
          return [tf.matMul(local, tf.transpose(w)), tf.mul(tf.matMul(tf.transpose(xs), local), 1.02)];
        },
      };
    });
    const loss = () => tf.sum(tf.square(wrong(x, w))) as tf.Scalar;
    const [result] = checkGradients(loss, [w], {
      epsilon: EPSILON,
      richardson: true,
      entries: 4,
      floor: 1e-2,
      seed: 1,
    });
    expect(result!.worstEntryError).toBeGreaterThan(RELATIVE);
    expect(Math.abs(result!.directional - result!.directionalFd)).toBeGreaterThan(
      NOISE + RELATIVE * Math.abs(result!.directional),
    );
    tf.dispose([w, x]);
  });
});
