import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { SeededDropout } from "../adapters/core/low-rank";
import { rejection } from "../training/test-support/rejection";
import { type DropoutScope, withDropoutScope } from "./dropout-scope";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

/** The kept-element pattern of one mask drawn by `dropout` at `site` (1 kept, 0 dropped). */
function mask(dropout: SeededDropout, site: string): number[] {
  return tf.tidy(() =>
    Array.from(dropout.apply(tf.ones([64]), true, site).dataSync(), (v) => (v > 0 ? 1 : 0)),
  );
}

describe("withDropoutScope", () => {
  const scope: DropoutScope = { seed: 4, step: 3, microBatch: 1 };

  it("masks are a pure function of (seed, step, micro-batch, owner, site, call): no state carries over", () => {
    const first = new SeededDropout(0.5, 9);
    // Burn masks outside and inside other scopes: a fresh instance inside the same scope still agrees.
    mask(first, "0.query");
    withDropoutScope({ ...scope, step: 2 }, () => mask(first, "0.query"));
    const a = withDropoutScope(scope, () => [mask(first, "0.query"), mask(first, "0.query")]);
    const b = withDropoutScope(scope, () => [
      mask(new SeededDropout(0.5, 9), "0.query"),
      mask(first, "0.query"),
    ]);
    expect(a).toEqual(b);
    expect(a[0]).not.toEqual(a[1]); // a site called twice gets two masks
    const kept = (a[0] as number[]).reduce((s, v) => s + v, 0);
    expect(kept).toBeGreaterThan(16);
    expect(kept).toBeLessThan(48);
    const other = (change: Partial<DropoutScope>, site = "0.query", seed = 9) =>
      withDropoutScope({ ...scope, ...change }, () => mask(new SeededDropout(0.5, seed), site));
    expect(other({})).toEqual(a[0]);
    for (const different of [
      other({ step: 4 }),
      other({ microBatch: 0 }),
      other({ seed: 5 }),
      other({ seed: "4" }),
      other({}, "0.value"),
      other({}, "0.query", 10),
    ]) {
      expect(different).not.toEqual(a[0]);
    }
  });

  it("nests (the inner scope wins until it returns), and is gone afterwards", () => {
    const dropout = new SeededDropout(0.5, 1);
    const [outerFirst, inner, outerSecond] = withDropoutScope(scope, () => [
      mask(dropout, "s"),
      withDropoutScope({ ...scope, step: 8 }, () => mask(dropout, "s")),
      mask(dropout, "s"),
    ]);
    expect(inner).toEqual(withDropoutScope({ ...scope, step: 8 }, () => mask(dropout, "s")));
    expect(outerFirst).toEqual(withDropoutScope(scope, () => mask(dropout, "s")));
    expect(outerSecond).not.toEqual(outerFirst);
    // Outside any scope the per-instance counter is used: two fresh instances agree on their first mask.
    expect(mask(new SeededDropout(0.5, 1), "s")).toEqual(mask(new SeededDropout(0.5, 1), "s"));
  });

  it("is the identity when not training or at rate 0; rejects async functions and bad positions", async () => {
    const x = tf.ones([4]);
    withDropoutScope(scope, () => {
      expect(new SeededDropout(0.5, 1).apply(x, false, "s")).toBe(x);
      expect(new SeededDropout(0, 1).apply(x, true, "s")).toBe(x);
    });
    x.dispose();
    const error = await rejection((async () => withDropoutScope(scope, () => Promise.resolve(1)))());
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toMatch(/synchronous/);
    const bad = await rejection((async () => withDropoutScope({ ...scope, step: -1 }, () => 0))());
    expect(bad.path).toBe("step");
  });
});
