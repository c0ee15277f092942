import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adapterTensorLayout, countParameters, parseAdapterSpec, shapeSize } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadAdapter, saveAdapter } from "../../node";
import {
  type AdapterSpecInput,
  applyAdapters,
  mergeAdapters,
  removeAdapters,
  unmergeAdapters,
} from "../index";
import { maxAbsDiff, randomizeAdapter, sizeOf } from "../test-support/helpers";
import { TINY_SHAPE, TinyTransformer, tinyBatch } from "../test-support/tiny-transformer";

let root = "";
beforeAll(async () => {
  await tf.setBackend("cpu");
  root = await mkdtemp(join(tmpdir(), "kora-tfjs-gated-lora-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const models: TinyTransformer[] = [];
function tiny(seed = 7): TinyTransformer {
  const model = new TinyTransformer(TINY_SHAPE, seed);
  models.push(model);
  return model;
}
afterEach(() => {
  for (const model of models.splice(0)) {
    removeAdapters(model);
    model.dispose();
  }
});

function labels(size: number): tf.Tensor2D {
  const classes = Array.from({ length: size }, (_, i) => i % TINY_SHAPE.numClasses);
  return tf.oneHot(tf.tensor1d(classes, "int32"), TINY_SHAPE.numClasses).toFloat() as tf.Tensor2D;
}

describe("gated LoRA", () => {
  const variants: Record<string, AdapterSpecInput> = {
    "defaults (q,v, scalar gate)": { method: "gated-lora", rank: 2 },
    "channel gate on every target, rsLoRA, block 1 only": {
      method: "gated-lora",
      rank: 3,
      alpha: 5,
      rslora: true,
      targets: ["query", "key", "value", "output", "fc1", "fc2"],
      layers: [1],
      gate: { per: "channel" },
    },
  };
  for (const [label, input] of Object.entries(variants)) {
    it(`${label}: identity at init through the gate alone (B ≠ 0); step 1 moves only the gates, step 2 every tensor`, () => {
      const model = tiny();
      const x = tinyBatch(TINY_SHAPE, 12, 31);
      const y = labels(12);
      const base = model.predict(x);
      const handle = applyAdapters(model, input, { seed: 4 });
      const adapted = model.predict(x);
      expect(maxAbsDiff(adapted, base)).toBe(0);

      const variables = [...handle.adapterVariables().entries()];
      // Every B is non-zero: the identity comes from the gate, not from B as in LoRA.
      for (const [name, v] of variables) {
        if (name.endsWith(".lora_B"))
          expect(
            tf.tidy(() => tf.max(tf.abs(v)).dataSync()[0]),
            name,
          ).toBeGreaterThan(0);
        if (name.endsWith(".gate")) expect(Array.from(v.dataSync())).toEqual(new Array(v.size).fill(0));
      }
      const spec = parseAdapterSpec(input);
      const layout = adapterTensorLayout(spec, TINY_SHAPE, { includeHead: false });
      const count = countParameters(spec, TINY_SHAPE);
      expect(layout.reduce((sum, t) => sum + shapeSize(t.shape), 0)).toBe(count.adapter);
      expect(sizeOf([...handle.adapterVariables().values()])).toBe(count.adapter);

      const initial = new Map(variables.map(([name, v]) => [name, v.clone()]));
      const moved = () =>
        variables.filter(([name, v]) => maxAbsDiff(v, initial.get(name) as tf.Tensor) > 0).map(([n]) => n);
      const optimizer = tf.train.adam(1e-2);
      const step = () =>
        optimizer.minimize(
          () => tf.losses.softmaxCrossEntropy(y, model.predict(x, true)) as tf.Scalar,
          false,
          handle.trainableVariables(),
        );
      step();
      // g = 0 multiplies the gradients of A and B; the gate's own gradient is non-zero because B·A is.
      expect(moved()).toEqual(variables.map(([n]) => n).filter((n) => n.endsWith(".gate")));
      step();
      expect(moved()).toEqual(variables.map(([n]) => n));
      optimizer.dispose();
      tf.dispose([x, y, base, adapted, ...initial.values()]);
    });
  }

  it("with a scalar gate g equals LoRA whose B is g·B (same A, same scaling), to float32", () => {
    const gated = tiny(3);
    const gatedHandle = applyAdapters(gated, { method: "gated-lora", rank: 2, alpha: 3 }, { seed: 1 });
    randomizeAdapter(gatedHandle, 5, 0.3);
    const tensors = gatedHandle.getAdapterTensors({ includeHead: false });
    const plain = tiny(3);
    const loraHandle = applyAdapters(plain, { method: "lora", rank: 2, alpha: 3 });
    const lora: typeof tensors = {};
    for (const [name, tensor] of Object.entries(tensors)) {
      if (name.endsWith(".gate")) continue;
      if (!name.endsWith(".lora_B")) {
        lora[name] = tensor;
        continue;
      }
      const g = tensors[name.replace(/lora_B$/, "gate")]?.data[0] as number;
      lora[name] = { shape: tensor.shape, data: tensor.data.map((v) => v * g) };
    }
    loraHandle.setAdapterTensors(lora);
    const x = tinyBatch(TINY_SHAPE, 8, 40);
    const a = gated.predict(x);
    const b = plain.predict(x);
    gatedHandle.disableAdapters();
    const base = gated.predict(x);
    expect(maxAbsDiff(a, base)).toBeGreaterThan(1e-2);
    // Same terms, g applied after instead of inside the matmul: float32 reordering only.
    expect(maxAbsDiff(a, b)).toBeLessThanOrEqual(2e-6);
    tf.dispose([x, a, b, base]);
  });

  it("merges into the kernels (per-channel gate included) and unmerges", () => {
    const model = tiny(3);
    const handle = applyAdapters(model, {
      method: "gated-lora",
      rank: 2,
      targets: ["query", "fc1"],
      gate: { per: "channel" },
    });
    randomizeAdapter(handle, 8, 0.3);
    const x = tinyBatch(TINY_SHAPE, 6, 2);
    const active = model.predict(x);
    mergeAdapters(model);
    const merged = model.predict(x);
    unmergeAdapters(model);
    const unmerged = model.predict(x);
    expect(maxAbsDiff(active, merged)).toBeLessThanOrEqual(2e-5);
    expect(maxAbsDiff(active, unmerged)).toBeLessThanOrEqual(2e-5);
    tf.dispose([x, active, merged, unmerged]);
  });

  it("saves and loads through the adapter format: identical tensors and outputs", async () => {
    const source = tiny();
    const handle = applyAdapters(source, { method: "gated-lora", rank: 3, gate: { per: "channel" } });
    randomizeAdapter(handle, 12);
    const dir = join(root, "round-trip");
    const manifest = await saveAdapter(source, dir, { metadata: { seed: "12" } });
    expect(manifest.spec).toEqual(handle.spec());
    const target = tiny();
    const loaded = await loadAdapter(target, dir);
    const saved = handle.getAdapterTensors();
    const restored = loaded.getAdapterTensors();
    expect(Object.keys(restored).sort()).toEqual(Object.keys(saved).sort());
    for (const [name, tensor] of Object.entries(saved)) expect(restored[name]?.data).toEqual(tensor.data);
    const x = tinyBatch(TINY_SHAPE, 4, 9);
    const a = source.predict(x);
    const b = target.predict(x);
    expect(maxAbsDiff(a, b)).toBe(0);
    tf.dispose([x, a, b]);
  });
});

describe("a learnable gate that starts away from 0", () => {
  const methods: Record<string, AdapterSpecInput> = {
    kora: { method: "kora", rank: 2, gate: { init: 0.1 } },
    "gated-bottleneck": { method: "gated-bottleneck", gate: { init: 0.1 } },
    "gated-lora": { method: "gated-lora", rank: 2, gate: { init: 0.1 } },
    "gated-lora, channel gate": { method: "gated-lora", rank: 2, gate: { init: -0.25, per: "channel" } },
  };
  for (const [label, input] of Object.entries(methods)) {
    it(`${label}: every gate variable starts at gate.init, stays learnable, and the adapter is not the identity`, () => {
      const model = tiny();
      const x = tinyBatch(TINY_SHAPE, 6, 11);
      const base = model.predict(x);
      const handle = applyAdapters(model, input, { seed: 4 });
      const spec = parseAdapterSpec(input);
      if (!("gate" in spec)) throw new Error(`${label}: a spec without a gate`);
      const init = spec.gate;
      const gates = [...handle.adapterVariables().entries()].filter(([name]) => name.endsWith(".gate"));
      expect(gates.length).toBeGreaterThan(0);
      for (const [name, gate] of gates) {
        expect(Array.from(gate.dataSync()), name).toEqual(new Array(gate.size).fill(Math.fround(init.init)));
        expect(handle.trainableVariables()).toContain(gate);
      }
      const adapted = model.predict(x);
      expect(maxAbsDiff(adapted, base)).toBeGreaterThan(1e-6);
      tf.dispose([x, base, adapted]);
    });
  }
});
