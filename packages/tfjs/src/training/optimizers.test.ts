import { KoraError } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { adamW } from "./adamw";
import { isNoWeightDecayParameter, type Optimizer } from "./optimizer";
import { sgd } from "./sgd";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

function step(optimizer: Optimizer, variable: tf.Variable, gradient: number[], factor = 1, name = "p"): void {
  const g = tf.tensor(gradient, variable.shape);
  optimizer.applyGradients([{ name, variable, gradient: g }], factor);
  g.dispose();
}

function values(variable: tf.Variable): number[] {
  return Array.from(variable.dataSync());
}

function expectClose(actual: number[], expected: number[], digits: number): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    expect(a).toBeCloseTo(expected[i] as number, digits);
  });
}

describe("AdamW (torch.optim.AdamW)", () => {
  it("matches hand-computed values after one and two steps", () => {
    // lr 0.1, betas (0.9, 0.999), eps 1e-8, weight decay 0.1; p0 = [1, -2, 0.5].
    // Step 1, g = [0.5, -1, 0]: p ← p·(1 − 0.1·0.1) = [0.99, -1.98, 0.495]; m = 0.1·g; v = 0.001·g²;
    //   m̂ = m / 0.1 = g, √v̂ = √(v / 0.001) = |g| → p −= 0.1 · g / (|g| + 1e-8) = ±0.1 (0 where g = 0)
    //   → [0.890000002, -1.880000001, 0.495]   (the 1e-8 shows in the last digits).
    // Step 2, g = [0.1, 0.2, -0.3]: m = 0.9 m + 0.1 g = [0.055, -0.07, -0.03];
    //   v = 0.999 v + 0.001 g² = [2.5975e-4, 1.039e-3, 9e-5]; bias corrections 1 − 0.9² = 0.19, √(1 − 0.999²);
    //   p ← 0.99 p − (0.1 / 0.19) · m / (√v / √(1 − 0.999²) + 1e-8)
    //   → [0.8007959063646517, -1.8100973939804945, 0.5644636788496808].
    const p = tf.variable(tf.tensor1d([1, -2, 0.5]), true, "adamw-hand");
    const optimizer = adamW({ learningRate: 0.1, weightDecay: 0.1, betas: [0.9, 0.999], epsilon: 1e-8 });
    step(optimizer, p, [0.5, -1, 0]);
    expectClose(values(p), [0.890000002, -1.880000001, 0.495], 6);
    step(optimizer, p, [0.1, 0.2, -0.3]);
    expectClose(values(p), [0.8007959063646517, -1.8100973939804945, 0.5644636788496808], 6);
    const state = optimizer.stateTensors();
    expectClose(Array.from((state["p/exp_avg"] as tf.Tensor).dataSync()), [0.055, -0.07, -0.03], 7);
    expectClose(Array.from((state["p/exp_avg_sq"] as tf.Tensor).dataSync()), [2.5975e-4, 1.039e-3, 9e-5], 8);
    expect(optimizer.stateJson()).toEqual({ kind: "adamw", steps: { p: 2 } });
    optimizer.dispose();
    p.dispose();
  });

  it("adds epsilon outside the square root, after bias correction (a large eps makes it visible)", () => {
    // eps 0.1, g = 0.5 then 0.1, no decay. Step 1: m̂ = 0.5, √v̂ = 0.5 → p = 1 − 0.1·0.5/(0.5 + 0.1) = 0.91666667.
    // (eps inside the root would give 0.91548; Keras-style ε on the uncorrected √v gives 0.98634.)
    // Step 2: m = 0.055, v = 2.5975e-4 → p = 0.91666667 − (0.1/0.19)·0.055/(√v/√(1 − 0.999²) + 0.1) = 0.85380209.
    const p = tf.variable(tf.tensor1d([1]), true, "adamw-eps");
    const optimizer = adamW({ learningRate: 0.1, weightDecay: 0, epsilon: 0.1 });
    step(optimizer, p, [0.5]);
    expectClose(values(p), [0.9166666666666666], 6);
    step(optimizer, p, [0.1]);
    expectClose(values(p), [0.8538020918110768], 6);
    optimizer.dispose();
    p.dispose();
  });

  it("applies the schedule factor to both the step and the decoupled decay", () => {
    // factor 0.5 → lr 0.05: p = 2·(1 − 0.05·0.2) − 0.05·sign(g) = 1.98 − 0.05 = 1.93.
    const p = tf.variable(tf.tensor1d([2]), true, "adamw-factor");
    const optimizer = adamW({ learningRate: 0.1, weightDecay: 0.2 });
    step(optimizer, p, [3], 0.5);
    expectClose(values(p), [1.93], 6);
    optimizer.dispose();
    p.dispose();
  });

  it("parameter groups: no decay for biases/norms/gates, a separate learning rate for the head", () => {
    const named = {
      "block/kernel": tf.variable(tf.ones([2, 2]), true, "g-kernel"),
      "block/bias": tf.variable(tf.ones([2]), true, "g-bias"),
      "block/norm/gamma": tf.variable(tf.ones([2]), true, "g-norm"),
      "block/gate": tf.variable(tf.ones([1]), true, "g-gate"),
      "head/kernel": tf.variable(tf.ones([2, 3]), true, "g-head-kernel"),
      "head/bias": tf.variable(tf.ones([3]), true, "g-head-bias"),
    };
    const optimizer = adamW({
      learningRate: 0.01,
      weightDecay: 0.5,
      groups: [
        { match: /^head\//, learningRate: 0.1 },
        { match: isNoWeightDecayParameter, weightDecay: 0 },
      ],
    });
    expect(optimizer.resolve("block/kernel", named["block/kernel"])).toEqual({
      learningRate: 0.01,
      weightDecay: 0.5,
    });
    expect(optimizer.resolve("head/bias", named["head/bias"])).toEqual({ learningRate: 0.1, weightDecay: 0 });
    // Zero gradients: the Adam term is 0/(0 + eps) = 0, so only the decoupled decay moves a weight.
    optimizer.applyGradients(
      Object.entries(named).map(([name, variable]) => ({ name, variable, gradient: tf.zerosLike(variable) })),
    );
    expect(values(named["block/kernel"])[0]).toBeCloseTo(1 - 0.01 * 0.5, 7);
    expect(values(named["head/kernel"])[0]).toBeCloseTo(1 - 0.1 * 0.5, 7);
    for (const name of ["block/bias", "block/norm/gamma", "block/gate", "head/bias"] as const) {
      expect(values(named[name])).toEqual(new Array(named[name].size).fill(1));
    }
    expect(isNoWeightDecayParameter("encoder/ln_1/scale", named["head/kernel"])).toBe(true);
    expect(isNoWeightDecayParameter("encoder/attention/query/kernel", named["head/kernel"])).toBe(false);
    optimizer.dispose();
    tf.dispose(Object.values(named));
  });

  it("learningRateScale multiplies the resolved learning rate, whichever group set it, scales of every group multiplied", () => {
    const gate = tf.variable(tf.tensor1d([0]), true, "scale-gate");
    const headGate = tf.variable(tf.tensor1d([0]), true, "scale-head-gate");
    const other = tf.variable(tf.tensor1d([0]), true, "scale-other");
    const optimizer = adamW({
      learningRate: 0.01,
      groups: [
        { match: /gate/, learningRateScale: 10 },
        { match: /^head\//, learningRate: 0.1 },
        { match: /^head\//, learningRateScale: 0.5 },
      ],
    });
    expect(optimizer.resolve("block/gate", gate).learningRate).toBeCloseTo(0.1, 12);
    expect(optimizer.resolve("head/gate", headGate).learningRate).toBeCloseTo(0.1 * 10 * 0.5, 12);
    expect(optimizer.resolve("block/kernel", other).learningRate).toBe(0.01);
    // First Adam step: p −= lr·sign(g) (eps aside), so the scaled variable moves exactly 10× as far.
    optimizer.applyGradients([
      { name: "block/gate", variable: gate, gradient: tf.tensor1d([0.3]) },
      { name: "block/kernel", variable: other, gradient: tf.tensor1d([0.3]) },
    ]);
    expect(values(gate)[0]).toBeCloseTo(-0.1, 6);
    expect(values(other)[0]).toBeCloseTo(-0.01, 7);
    expect(() => adamW({ learningRate: 0.1, groups: [{ match: /x/, learningRateScale: -1 }] })).toThrow(
      /groups\[0\]\.learningRateScale must be a finite number ≥ 0/,
    );
    optimizer.dispose();
    tf.dispose([gate, headGate, other]);
  });

  it("skips variables without a gradient and keeps their own step count (trainable toggled)", () => {
    const a = tf.variable(tf.tensor1d([1]), true, "toggle-a");
    const b = tf.variable(tf.tensor1d([1]), true, "toggle-b");
    const optimizer = adamW({ learningRate: 0.1, weightDecay: 0 });
    const apply = (names: ("a" | "b")[]) =>
      optimizer.applyGradients(
        names.map((name) => ({ name, variable: name === "a" ? a : b, gradient: tf.onesLike(a) })),
      );
    apply(["a", "b"]);
    apply(["a"]); // b frozen for this step: untouched, its step count stays 1
    const frozenValue = values(b)[0];
    expect(frozenValue).toBeCloseTo(0.9, 6);
    expect(optimizer.stateJson().steps).toEqual({ a: 2, b: 1 });
    apply(["a", "b"]);
    expect(optimizer.stateJson().steps).toEqual({ a: 3, b: 2 });
    // b's second update uses its own t = 2 bias correction: with a constant gradient m̂ = v̂ = 1 → −0.1 again.
    expect(values(b)[0]).toBeCloseTo(0.8, 6);
    optimizer.dispose();
    tf.dispose([a, b]);
  });

  it("state round-trips into a fresh optimizer and continues identically", () => {
    const p1 = tf.variable(tf.tensor1d([1, 2]), true, "rt-1");
    const p2 = tf.variable(tf.tensor1d([1, 2]), true, "rt-2");
    const o1 = adamW({ learningRate: 0.05 });
    step(o1, p1, [0.3, -0.2]);
    const o2 = adamW({ learningRate: 0.05 });
    o2.loadState(o1.stateJson(), o1.stateTensors());
    p2.assign(p1);
    step(o1, p1, [0.1, 0.4]);
    step(o2, p2, [0.1, 0.4]);
    expect(values(p2)).toEqual(values(p1));
    expect(() => sgd({ learningRate: 0.1 }).loadState(o1.stateJson(), o1.stateTensors())).toThrow(/adamw/);
    o1.dispose();
    o2.dispose();
    tf.dispose([p1, p2]);
  });
});

describe("SGD (torch.optim.SGD)", () => {
  it("momentum with dampening and L2 weight decay matches hand values", () => {
    // lr 0.1, momentum 0.9, dampening 0.1, wd 0.01; p0 = [1, -2].
    // Step 1: g = [0.5, -1] + 0.01·p = [0.51, -1.02]; buf = g; p = [0.949, -1.898].
    // Step 2: g = [0.1, 0.2] + 0.01·p = [0.10949, 0.18102]; buf = 0.9·buf + 0.9·g = [0.557541, -0.755082];
    //   p = [0.949 − 0.0557541, −1.898 + 0.0755082] = [0.8932459, −1.8224918].
    const p = tf.variable(tf.tensor1d([1, -2]), true, "sgd-hand");
    const optimizer = sgd({ learningRate: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 });
    step(optimizer, p, [0.5, -1]);
    expectClose(values(p), [0.949, -1.898], 6);
    step(optimizer, p, [0.1, 0.2]);
    expectClose(values(p), [0.8932459, -1.8224918], 6);
    optimizer.dispose();
    p.dispose();
  });

  it("nesterov momentum matches hand values; plain SGD has no state", () => {
    // Step 1: buf = g = [0.5, -1]; d = g + 0.9·buf = [0.95, -1.9]; p = [0.905, -1.81].
    // Step 2: buf = 0.9·[0.5, -1] + [0.1, 0.2] = [0.55, -0.7]; d = [0.595, -0.43]; p = [0.8455, -1.767].
    const p = tf.variable(tf.tensor1d([1, -2]), true, "sgd-nesterov");
    const optimizer = sgd({ learningRate: 0.1, momentum: 0.9, nesterov: true });
    step(optimizer, p, [0.5, -1]);
    expectClose(values(p), [0.905, -1.81], 6);
    step(optimizer, p, [0.1, 0.2]);
    expectClose(values(p), [0.8455, -1.767], 6);
    const plain = sgd({ learningRate: 0.5 });
    step(plain, p, [1, 1]);
    expectClose(values(p), [0.3455, -2.267], 6);
    expect(Object.keys(plain.stateTensors())).toEqual([]);
    tf.dispose(p);
    optimizer.dispose();
    try {
      sgd({ learningRate: 0.1, nesterov: true });
      expect.unreachable();
    } catch (error) {
      expect(KoraError.isInstance(error) && error.path).toBe("nesterov");
    }
  });
});
