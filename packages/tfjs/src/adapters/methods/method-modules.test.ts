import { ADAPTER_METHODS, countParameters, defaultAdapterSpec } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { applyAdapters, removeAdapters } from "../adapter-handle";
import { maxAbsDiff, sizeOf } from "../test-support/helpers";
import { TINY_SHAPE, TinyTransformer, tinyBatch } from "../test-support/tiny-transformer";
import { METHOD_MODULES } from "./method-modules";

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

// Every method of @kora/spec's registry, with its defaults, must have a tfjs module whose variables match the
// registry's layout, start as the identity and all receive a gradient within two optimizer steps. A method added
// to the registry is covered here without a new test.
describe.each(ADAPTER_METHODS)("tfjs module of %s", (method) => {
  it("exists, matches the layout and counts, is the identity at init and trains every tensor within 2 steps", () => {
    expect(typeof METHOD_MODULES[method].create).toBe("function");
    expect(typeof METHOD_MODULES[method].init).toBe("function");
    const model = new TinyTransformer(TINY_SHAPE, 3);
    models.push(model);
    const x = tinyBatch(TINY_SHAPE, 8, 11);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], "int32"), TINY_SHAPE.numClasses).toFloat();
    const base = model.predict(x);
    const spec = defaultAdapterSpec(method);
    const handle = applyAdapters(model, spec, { seed: 5 });
    expect(handle.spec()).toEqual(spec);
    const count = countParameters(spec, TINY_SHAPE);
    expect(sizeOf([...handle.adapterVariables().values()])).toBe(count.adapter);
    expect(sizeOf(handle.trainableVariables())).toBe(count.trainable);
    // Identity at init, to float32 rounding (a softmax over identical candidates sums to 1 ± 1 ulp).
    expect(maxAbsDiff(model.predict(x), base)).toBeLessThan(1e-6);

    const variables = [...handle.adapterVariables().entries()];
    const initial = new Map(variables.map(([name, v]) => [name, v.clone()]));
    const optimizer = tf.train.adam(1e-2);
    for (let step = 0; step < 2; step++) {
      optimizer.minimize(
        () => tf.losses.softmaxCrossEntropy(y, model.predict(x, true)) as tf.Scalar,
        false,
        handle.trainableVariables(),
      );
    }
    for (const [name, variable] of variables) {
      expect(maxAbsDiff(variable, initial.get(name) as tf.Tensor), `${name} did not move`).toBeGreaterThan(0);
    }
    optimizer.dispose();
    tf.dispose([x, y, base, ...initial.values()]);
  });
});
