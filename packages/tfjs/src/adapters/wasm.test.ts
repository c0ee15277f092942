import "@tensorflow/tfjs-backend-wasm";
import * as tf from "@tensorflow/tfjs";
import { afterAll, describe, expect, it } from "vitest";
import { type AdapterSpecInput, applyAdapters, removeAdapters } from "./index";
import { randomizeAdapter } from "./test-support/helpers";
import { TINY_SHAPE, TinyTransformer, tinyBatch } from "./test-support/tiny-transformer";

/**
 * Training on the wasm backend (the default fast CPU backend): the adapters' ops must all have wasm kernels and
 * gradients there (no gather gradients: wasm lacks UnsortedSegmentSum; no Conv2DBackpropFilter).
 */
const METHODS: Record<string, AdapterSpecInput> = {
  LoRA: { method: "lora", rank: 4, dropout: 0.1, targets: ["query", "value", "fc2"] },
  "KoRA (mlp)": { method: "kora", rank: 4, dropout: 0.1 },
  "KoRA (attention composition, qkv)": {
    method: "kora",
    rank: 4,
    composition: { kind: "attention" },
    apply: "qkv",
  },
  "AdapterFusion (dynamic)": { method: "adapter-fusion", reduction: 4, fusion: { variant: "dynamic" } },
};

afterAll(async () => {
  await tf.setBackend("cpu");
});

describe("wasm backend", () => {
  for (const [label, spec] of Object.entries(METHODS)) {
    it(`${label}: same outputs as cpu (1e-4), then 10 Adam steps train without leaking`, async () => {
      await tf.setBackend("cpu");
      const model = new TinyTransformer(TINY_SHAPE, 5);
      const handle = applyAdapters(model, spec, { seed: 1 });
      randomizeAdapter(handle, 3, 0.2);
      const x = tinyBatch(TINY_SHAPE, 16, 4);
      const labels = tf.oneHot(
        tf.tensor1d(
          Array.from({ length: 16 }, (_, i) => i % 3),
          "int32",
        ),
        3,
      );
      const onCpu = (await model.predict(x).array()) as number[][];

      await tf.setBackend("wasm");
      expect(tf.getBackend()).toBe("wasm");
      const logits = model.predict(x);
      const onWasm = (await logits.array()) as number[][];
      logits.dispose();
      const diff = Math.max(
        ...onCpu.flatMap((row, i) => row.map((v, j) => Math.abs(v - (onWasm[i]?.[j] as number)))),
      );
      expect(diff).toBeLessThan(1e-4);

      const optimizer = tf.train.adam(1e-2);
      const step = () => {
        const loss = optimizer.minimize(
          () => tf.losses.softmaxCrossEntropy(labels, model.predict(x, true)) as tf.Scalar,
          true,
          handle.trainableVariables(),
        ) as tf.Scalar;
        const value = loss.dataSync()[0] as number;
        loss.dispose();
        return value;
      };
      const first = step();
      const before = tf.memory().numTensors;
      let last = first;
      for (let i = 0; i < 10; i++) last = step();
      expect(tf.memory().numTensors).toBe(before);
      expect(Number.isFinite(last)).toBe(true);
      expect(last).toBeLessThan(first);
      optimizer.dispose();
      removeAdapters(model);
      model.dispose();
      tf.dispose([x, labels]);
    }, 60_000);
  }
});
