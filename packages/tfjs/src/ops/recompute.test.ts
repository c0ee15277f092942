import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SeededDropout } from "../adapters/core/low-rank";
import { forwardContext } from "../training/model";
import { SeededRandom } from "../training/random";
import { withDropoutScope } from "./dropout-scope";
import { linear } from "./linear";
import { recomputeInBackward } from "./recompute";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const w1 = tf.variable(tf.randomNormal([6, 16], 0, 0.5, "float32", 1), true, "recompute-test/w1");
const b1 = tf.variable(tf.randomNormal([16], 0, 0.5, "float32", 2), true, "recompute-test/b1");
const w2 = tf.variable(tf.randomNormal([16, 6], 0, 0.5, "float32", 3), true, "recompute-test/w2");
const frozen = tf.variable(tf.randomNormal([6, 6], 0, 0.5, "float32", 4), false, "recompute-test/frozen");
const dropout = new SeededDropout(0.4, 7);

afterAll(() => {
  tf.dispose([w1, b1, w2, frozen]);
});

/** A residual block with a frozen projection, two trainable ones, GELU-free tanh, and adapter dropout. */
function block(x: tf.Tensor2D, training: boolean): tf.Tensor2D {
  const h = tf.tanh(
    linear(
      dropout.apply(x, training, "block"),
      w1 as tf.Tensor as tf.Tensor2D,
      b1 as tf.Tensor as tf.Tensor1D,
    ),
  );
  const y = linear(h as tf.Tensor2D, w2 as tf.Tensor as tf.Tensor2D);
  return tf.add(x, tf.add(y, linear(x, frozen as tf.Tensor as tf.Tensor2D))) as tf.Tensor2D;
}

/** Gradients of a 3-block stack's loss w.r.t. the input and the trainable variables, as arrays. */
function gradients(recompute: boolean, step = 0, when?: (bytes: number) => boolean): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.randomNormal([10, 6], 0, 1, "float32", 9) as tf.Tensor2D;
    const loss = (input: tf.Tensor) => {
      let h = tf.mul(input, 1.5) as tf.Tensor2D; // the stack's input is computed on the tape too
      for (let i = 0; i < 3; i++) {
        const run = (z: tf.Tensor2D) => block(z, true);
        h = recompute ? recomputeInBackward(run, h, when === undefined ? {} : { when }) : run(h);
      }
      return tf.sum(tf.square(h)) as tf.Scalar;
    };
    return withDropoutScope({ seed: 3, step, microBatch: 0 }, () => {
      const gx = tf.grad(loss)(x);
      const { grads } = tf.variableGrads(() => loss(x), [w1, b1, w2]);
      return [gx, grads[w1.name], grads[b1.name], grads[w2.name]].map(
        (g) => (g as tf.Tensor).dataSync() as Float32Array,
      );
    });
  });
}

function maxRelativeDifference(a: Float32Array[], b: Float32Array[]): number {
  let worst = 0;
  a.forEach((expected, k) => {
    const actual = b[k] as Float32Array;
    const scale = Math.max(1e-6, ...Array.from(expected, Math.abs));
    for (let i = 0; i < expected.length; i++) {
      worst = Math.max(worst, Math.abs((actual[i] as number) - (expected[i] as number)) / scale);
    }
  });
  return worst;
}

describe("recomputeInBackward", () => {
  it("gives the plain path's gradients for the input and every trainable variable, adapter dropout included", () => {
    const plain = gradients(false);
    const recomputed = gradients(true);
    expect(maxRelativeDifference(plain, recomputed)).toBeLessThanOrEqual(1e-6);
    // The check can fail: the dropout masks matter (another step draws other masks, other gradients).
    expect(maxRelativeDifference(plain, gradients(false, 1))).toBeGreaterThan(1e-2);
  });

  it("replays ForwardContext.dropout's seeds too (a run's own random stream)", () => {
    const run = (recompute: boolean) =>
      tf.tidy(() => {
        const context = forwardContext(true, 0, 0, new SeededRandom(11));
        const x = tf.randomNormal([8, 6], 0, 1, "float32", 5) as tf.Tensor2D;
        const f = (z: tf.Tensor2D) =>
          tf.tanh(linear(context.dropout(z, 0.5), w1 as tf.Tensor as tf.Tensor2D));
        const { grads } = tf.variableGrads(
          () => tf.sum(recompute ? recomputeInBackward(f, x) : f(x)) as tf.Scalar,
          [w1],
        );
        return (grads[w1.name] as tf.Tensor).dataSync() as Float32Array;
      });
    expect(maxRelativeDifference([run(false)], [run(true)])).toBeLessThanOrEqual(1e-6);
  });

  it("keeps only the segment's input and output alive between the forward and backward passes", () => {
    const x = tf.randomNormal([32, 6], 0, 1, "float32", 6) as tf.Tensor2D;
    const held = (recompute: boolean): number => {
      let count = 0;
      const { value, grads } = tf.variableGrads(() => {
        const before = tf.memory().numTensors;
        const y = recompute ? recomputeInBackward((z) => block(z, true), x) : block(x, true);
        count = tf.memory().numTensors - before;
        return tf.sum(y) as tf.Scalar;
      }, [w1]);
      tf.dispose([value, ...Object.values(grads)]);
      return count;
    };
    // The output and the input's saved copy; the plain path keeps every intermediate the backward pass reads.
    expect(held(true)).toBe(2);
    expect(held(false)).toBeGreaterThan(8);
    x.dispose();
  });

  it("`when` sees the bytes the tape would keep; declining keeps the tape as the plain path does", () => {
    const x = tf.randomNormal([50, 6], 0, 1, "float32", 8);
    const seen: number[] = [];
    // exp's gradient saves its output only: 50 × 6 float32 values.
    const { grads } = tf.variableGrads(
      () =>
        tf.sum(
          tf.mul(
            recomputeInBackward(
              (z) => tf.exp(linear(z as tf.Tensor2D, frozen as tf.Tensor as tf.Tensor2D)),
              x,
              {
                when: (bytes) => {
                  seen.push(bytes);
                  return false;
                },
              },
            ),
            w1.sum(),
          ),
        ) as tf.Scalar,
      [w1],
    );
    expect(seen).toEqual([50 * 6 * 4]);
    expect(grads[w1.name]?.shape).toEqual([6, 16]);
    tf.dispose([x, ...Object.values(grads)]);
    expect(
      maxRelativeDifference(
        gradients(false),
        gradients(true, 0, () => false),
      ),
    ).toBe(0);
  });

  it("is a plain call outside a gradient", () => {
    let asked = false;
    const y = tf.tidy(() =>
      recomputeInBackward((z) => tf.mul(z, 2), tf.ones([3]), {
        when: () => {
          asked = true;
          return true;
        },
      }),
    );
    expect(Array.from(y.dataSync())).toEqual([2, 2, 2]);
    expect(asked).toBe(false);
    y.dispose();
  });

  it("refuses a segment that reads a tensor computed on the tape outside it (INVALID_ARGUMENT, path fn)", () => {
    const x = tf.ones([4, 6]) as tf.Tensor2D;
    let caught: unknown;
    try {
      tf.variableGrads(() => {
        const outside = tf.mul(w1, 2) as tf.Tensor2D;
        return tf.sum(recomputeInBackward((z) => tf.matMul(z, outside), x)) as tf.Scalar;
      }, [w1]);
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: "INVALID_ARGUMENT", path: "fn" });
    x.dispose();
  });
});
