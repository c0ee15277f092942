import { adapterTensorLayout, countParameters, KoraError, parseAdapterSpec } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type AdapterSpecInput,
  applyAdapters,
  getAdapterHandle,
  mergeAdapters,
  removeAdapters,
  trainableVariables,
} from "./index";
import { maxAbsDiff, randomizeAdapter, sizeOf } from "./test-support/helpers";
import { TINY_SHAPE, TinyTransformer, tinyBatch } from "./test-support/tiny-transformer";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const models: TinyTransformer[] = [];
function tiny(): TinyTransformer {
  const model = new TinyTransformer(TINY_SHAPE, 7);
  models.push(model);
  return model;
}
afterEach(() => {
  for (const model of models.splice(0)) {
    removeAdapters(model);
    model.dispose();
  }
});

const SPECS: Record<string, AdapterSpecInput> = {
  "lora default (q, v)": { method: "lora" },
  "lora all targets, block 1, r=2": {
    method: "lora",
    rank: 2,
    targets: ["query", "key", "value", "output", "fc1", "fc2"],
    layers: [1],
  },
  "lora gaussian rslora": { method: "lora", rank: 4, alpha: 16, init: "gaussian", rslora: true },
  "kora default (mlp, scalar gate)": { method: "kora", rank: 2 },
  "kora attention, channel gate, qkv": {
    method: "kora",
    rank: 2,
    composition: { kind: "attention", hidden: 3 },
    gate: { per: "channel" },
    apply: "qkv",
  },
  "kora mlp without bias, fixed gate": {
    method: "kora",
    rank: 2,
    composition: { bias: false, activation: "silu" },
    gate: { mode: "fixed", init: 0.5 },
  },
  "kora gate none, layer 0": { method: "kora", rank: 2, gate: { mode: "none" }, layers: [0] },
  "adapter-fusion static": { method: "adapter-fusion", reduction: 4 },
  "adapter-fusion dynamic, 3 adapters": {
    method: "adapter-fusion",
    adapters: ["a", "b", "c"],
    bottleneck: 3,
    fusion: { variant: "dynamic", attentionDim: null },
  },
  "adapter-fusion two-stage": { method: "adapter-fusion", reduction: 4, training: "two-stage" },
};

describe("applyAdapters: variables follow adapterTensorLayout", () => {
  for (const [label, input] of Object.entries(SPECS)) {
    it(`${label}: trainableVariables() = adapter + head and its size = countParameters().trainable`, () => {
      const model = tiny();
      const handle = applyAdapters(model, input);
      const spec = parseAdapterSpec(input);
      const count = countParameters(spec, TINY_SHAPE);
      expect(sizeOf(handle.trainableVariables())).toBe(count.trainable);
      expect(sizeOf(trainableVariables(model))).toBe(count.trainable);
      expect(sizeOf(model.backboneVariables())).toBe(count.backbone);
      const layout = adapterTensorLayout(spec, TINY_SHAPE, { includeHead: false });
      const variables = handle.adapterVariables();
      expect([...variables.keys()]).toEqual(layout.map((t) => t.name));
      for (const info of layout) {
        const v = variables.get(info.name) as tf.Variable;
        expect(v.shape).toEqual(info.shape.length === 2 ? [info.shape[1], info.shape[0]] : info.shape);
        expect(v.trainable).toBe(info.trainable);
      }
      const trainable = new Set(handle.trainableVariables());
      for (const v of model.backboneVariables()) {
        expect(v.trainable).toBe(false);
        expect(trainable.has(v)).toBe(false);
      }
      for (const v of model.headVariables()) expect(trainable.has(v)).toBe(true);
    });
  }

  it("trainHead: false keeps the head out of the trainable variables and frozen", () => {
    const model = tiny();
    const handle = applyAdapters(model, { method: "kora", rank: 2 }, { trainHead: false });
    const count = countParameters(parseAdapterSpec({ method: "kora", rank: 2 }), TINY_SHAPE, {
      trainHead: false,
    });
    expect(sizeOf(handle.trainableVariables())).toBe(count.trainable);
    for (const v of model.headVariables()) expect(v.trainable).toBe(false);
    removeAdapters(model);
    for (const v of model.headVariables()) expect(v.trainable).toBe(true);
  });

  it("backbone variables receive no gradient; every trainable variable does", () => {
    const model = tiny();
    const handle = applyAdapters(model, { method: "lora", targets: ["query", "fc2"] });
    randomizeAdapter(handle, 3);
    const x = tinyBatch(TINY_SHAPE, 2, 5);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(model.predict(x, true))) as tf.Scalar);
    const names = new Set(Object.keys(grads));
    expect(names).toEqual(new Set(handle.trainableVariables().map((v) => v.name)));
    tf.dispose([value, grads, x]);
  });
});

describe("identity at initialisation", () => {
  for (const [label, input] of Object.entries(SPECS)) {
    const spec = parseAdapterSpec(input);
    // KoRA is the identity at init through its gate (0); with apply "qkv" the direct deltas s·B_t·A_t·x are
    // ungated and B_t ~ N(0, 0.02²), so the model starts close to, not at, the base model.
    const kora = spec.method === "kora";
    const gated = kora && spec.gate.mode === "learnable" && spec.apply === "value";
    const expectation = kora && !gated ? "differ from" : "equal";
    it(`${label}: adapted outputs ${expectation} the base model's`, () => {
      const model = tiny();
      const x = tinyBatch(TINY_SHAPE, 3, 11);
      const base = model.predict(x);
      applyAdapters(model, input, { seed: 4 });
      const adapted = model.predict(x);
      const diff = maxAbsDiff(adapted, base);
      if (spec.method === "adapter-fusion") {
        // Every adapter starts as the identity; the fused output Σ p_i·o equals o up to the rounding of Σ p_i.
        expect(diff).toBeLessThan(1e-6);
      } else if (expectation === "equal") {
        expect(diff).toBe(0);
      } else {
        expect(diff).toBeGreaterThan(1e-6);
      }
      tf.dispose([x, base, adapted]);
    });
  }
});

describe("named adapters, active adapter, disabled mode, removal", () => {
  it("switches between named adapters of different methods and can disable them", () => {
    const model = tiny();
    const x = tinyBatch(TINY_SHAPE, 2, 12);
    const base = model.predict(x);
    const handle = applyAdapters(
      model,
      { method: "lora", targets: ["query", "value", "fc1"] },
      { name: "lora" },
    );
    randomizeAdapter(handle, 1);
    const withLora = model.predict(x);
    expect(applyAdapters(model, { method: "kora", rank: 2 }, { name: "kora" })).toBe(handle);
    randomizeAdapter(handle, 2, 0.3, "kora");
    expect(handle.adapterNames).toEqual(["lora", "kora"]);
    expect(handle.activeAdapter).toBe("kora");
    const withKora = model.predict(x);
    expect(maxAbsDiff(withKora, withLora)).toBeGreaterThan(1e-3);
    expect(sizeOf(handle.trainableVariables())).toBe(
      countParameters(parseAdapterSpec({ method: "kora", rank: 2 }), TINY_SHAPE).trainable,
    );
    for (const v of handle.adapterVariables("lora").values()) expect(v.trainable).toBe(false);

    handle.setActiveAdapter("lora");
    const again = model.predict(x);
    expect(maxAbsDiff(again, withLora)).toBe(0);
    for (const v of handle.adapterVariables("kora").values()) expect(v.trainable).toBe(false);

    handle.disableAdapters();
    expect(handle.adaptersEnabled).toBe(false);
    const disabled = model.predict(x);
    expect(maxAbsDiff(disabled, base)).toBe(0);
    expect(handle.trainableVariables()).toEqual(model.headVariables());
    handle.enableAdapters();
    const enabled = model.predict(x);
    expect(maxAbsDiff(enabled, withLora)).toBe(0);

    expect(() => handle.setActiveAdapter("nope")).toThrow(/no adapter named "nope".*"lora", "kora"/);
    expect(() => applyAdapters(model, { method: "lora" }, { name: "kora" })).toThrow(/already attached/);
    handle.deleteAdapter("kora");
    expect(handle.adapterNames).toEqual(["lora"]);
    tf.dispose([x, base, withLora, withKora, again, disabled, enabled]);
  });

  it("removeAdapters restores the original model: outputs, hooks, trainable flags, no adapter tensors left", () => {
    const model = tiny();
    model.headVariables()[1]!.trainable = false; // a non-default flag must come back too
    const flags = [...model.backboneVariables(), ...model.headVariables()].map((v) => v.trainable);
    const x = tinyBatch(TINY_SHAPE, 2, 13);
    const base = model.predict(x);
    const before = tf.memory().numTensors;
    const handle = applyAdapters(model, { method: "lora", targets: ["query", "fc2"] }, { name: "a" });
    randomizeAdapter(handle, 5);
    applyAdapters(model, { method: "kora", rank: 2 }, { name: "b" });
    applyAdapters(model, { method: "adapter-fusion", reduction: 4 }, { name: "c" });
    randomizeAdapter(handle, 6, 0.3, "c");
    handle.setActiveAdapter("a");
    handle.mergeAdapters();
    removeAdapters(model);
    expect(getAdapterHandle(model)).toBeUndefined();
    expect(tf.memory().numTensors).toBe(before);
    for (const site of model.attentionSites) {
      expect(site.qkvHook).toBeNull();
      for (const s of [site.query, site.key, site.value, site.output]) expect(s.deltaHook).toBeNull();
    }
    for (const site of model.mlpSites) {
      expect(site.feedForwardHook).toBeNull();
      expect(site.fc1.deltaHook).toBeNull();
      expect(site.fc2.deltaHook).toBeNull();
    }
    expect([...model.backboneVariables(), ...model.headVariables()].map((v) => v.trainable)).toEqual(flags);
    const after = model.predict(x);
    expect(maxAbsDiff(after, base)).toBeLessThan(1e-5); // merged and unmerged: float32 rounding only
    expect(() => handle.trainableVariables()).toThrow(/removed/);
    tf.dispose([x, base, after]);
  });

  it("refuses sites already hooked by something else", () => {
    const model = tiny();
    model.mlpSites[1]!.feedForwardHook = (_h, out) => out;
    expect(() => applyAdapters(model, { method: "lora" })).toThrow(/layer 1 mlp/);
    model.mlpSites[1]!.feedForwardHook = null;
  });

  it("rejects a spec for blocks the model does not have", () => {
    const model = tiny();
    expect(() => applyAdapters(model, { method: "lora", layers: [5] })).toThrow(/block 5 does not exist/);
  });
});

describe("merge", () => {
  it("LoRA: outputs before and after merge agree to 1e-5, unmerge restores the kernels", () => {
    const model = tiny();
    const handle = applyAdapters(model, {
      method: "lora",
      rank: 4,
      targets: ["query", "key", "value", "output", "fc1", "fc2"],
    });
    randomizeAdapter(handle, 8);
    const x = tinyBatch(TINY_SHAPE, 4, 14);
    const kernels = model.attentionSites.map((s) => s.query.kernel.clone());
    const adapted = model.predict(x);
    mergeAdapters(model);
    expect(handle.merged).toBe(true);
    const merged = model.predict(x);
    expect(maxAbsDiff(merged, adapted)).toBeLessThan(1e-5);
    expect(maxAbsDiff(model.attentionSites[0]!.query.kernel, kernels[0]!)).toBeGreaterThan(1e-3);
    expect(() => handle.disableAdapters()).toThrow(/unmergeAdapters/);
    handle.unmergeAdapters();
    const unmerged = model.predict(x);
    expect(maxAbsDiff(unmerged, adapted)).toBeLessThan(1e-5);
    for (const [i, s] of model.attentionSites.entries()) {
      expect(maxAbsDiff(s.query.kernel, kernels[i]!)).toBeLessThan(1e-6);
    }
    tf.dispose([x, adapted, merged, unmerged, kernels]);
  });

  for (const input of [
    { method: "kora" },
    { method: "kora", composition: { kind: "attention" } },
    { method: "adapter-fusion" },
  ] as AdapterSpecInput[]) {
    it(`${input.method} ${JSON.stringify(input)}: NOT_MERGEABLE saying why`, () => {
      const model = tiny();
      applyAdapters(model, input);
      let error: unknown;
      try {
        mergeAdapters(model);
      } catch (e) {
        error = e;
      }
      expect(KoraError.isInstance(error) && error.code).toBe("NOT_MERGEABLE");
      expect((error as Error).message).toMatch(
        input.method === "kora" ? /not a linear function/ : /nonlinear/,
      );
      expect(getAdapterHandle(model)?.merged).toBe(false);
    });
  }
});
