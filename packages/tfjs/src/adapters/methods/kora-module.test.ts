import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adapterTensorLayout, countParameters, KoraError, parseAdapterSpec, shapeSize } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadAdapter, saveAdapter } from "../../node";
import { type AdapterSpecInput, applyAdapters, mergeAdapters, removeAdapters } from "../index";
import { maxAbsDiff, randomizeAdapter, sizeOf } from "../test-support/helpers";
import { TINY_SHAPE, TinyTransformer, tinyBatch } from "../test-support/tiny-transformer";

let root = "";
beforeAll(async () => {
  await tf.setBackend("cpu");
  root = await mkdtemp(join(tmpdir(), "kora-tfjs-kora-"));
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
  return tf
    .oneHot(
      tf.tensor1d(
        Array.from({ length: size }, (_, i) => i % TINY_SHAPE.numClasses),
        "int32",
      ),
      TINY_SHAPE.numClasses,
    )
    .toFloat() as tf.Tensor2D;
}

const VARIANTS: Record<string, AdapterSpecInput> = {
  "composed-qkv, mlp, scalar gates": { method: "kora", rank: 2, apply: "composed-qkv" },
  "composed-qkv, attention, channel gates, block 1 only": {
    method: "kora",
    rank: 2,
    apply: "composed-qkv",
    composition: { kind: "attention", hidden: 3 },
    gate: { per: "channel" },
    layers: [1],
  },
  "rbf basis": { method: "kora", rank: 2, composition: { basis: { kind: "rbf", grid: 6 } } },
  "cubic B-spline basis with SiLU base, composed-qkv": {
    method: "kora",
    rank: 2,
    apply: "composed-qkv",
    composition: { hidden: 3, basis: { kind: "bspline", grid: 5 } },
  },
  "quadratic B-spline basis without base, channel gate": {
    method: "kora",
    rank: 2,
    gate: { per: "channel" },
    composition: { basis: { kind: "bspline", grid: 4, order: 2, base: "none", range: [-1, 1] } },
  },
};

describe("KoRA: composed-qkv and learnable bases on the adapter sites", () => {
  for (const [label, input] of Object.entries(VARIANTS)) {
    it(`${label}: the frozen backbone's output exactly at init; step 1 moves only the gates, step 2 every tensor; sizes equal the counts`, () => {
      const model = tiny();
      const x = tinyBatch(TINY_SHAPE, 12, 31);
      const y = labels(12);
      const base = model.predict(x);
      const handle = applyAdapters(model, input, { seed: 4 });
      const adapted = model.predict(x);
      expect(maxAbsDiff(adapted, base)).toBe(0);

      const spec = parseAdapterSpec(input);
      const layout = adapterTensorLayout(spec, TINY_SHAPE, { includeHead: false });
      const count = countParameters(spec, TINY_SHAPE);
      expect(layout.reduce((sum, t) => sum + shapeSize(t.shape), 0)).toBe(count.adapter);
      expect(sizeOf([...handle.adapterVariables().values()])).toBe(count.adapter);
      expect(sizeOf(handle.trainableVariables())).toBe(count.trainable);

      const variables = [...handle.adapterVariables().entries()];
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
      // Every gate is 0, which cuts every path but the gates' own; theirs are non-zero because fc2 / output are.
      const gates = variables.map(([n]) => n).filter((n) => n.endsWith(".gate"));
      expect(gates.length).toBe(layout.filter((t) => t.group === "gate").length);
      expect(moved()).toEqual(gates);
      step();
      // The attention composition's key bias shifts every score of a row alike, so the softmax cancels it: its
      // gradient is 0 up to rounding (see gradients.test.ts), which Adam's normalised step may or may not turn into
      // a move. It is left out; every other tensor must move.
      const keyBias = (n: string) => n.endsWith("composition.key.bias");
      expect(moved().filter((n) => !keyBias(n))).toEqual(
        variables.map(([n]) => n).filter((n) => !keyBias(n)),
      );
      optimizer.dispose();
      tf.dispose([x, y, base, adapted, ...initial.values()]);
    });
  }

  it("composed-qkv changes all three projections (not only v) once its gates are non-zero", () => {
    const model = tiny();
    const handle = applyAdapters(model, { method: "kora", rank: 2, apply: "composed-qkv" }, { seed: 1 });
    const x = tinyBatch(TINY_SHAPE, 3, 5);
    const base = model.predict(x);
    const set = (target: string, value: number) => {
      for (const [name, variable] of handle.adapterVariables()) {
        if (name.endsWith(".gate"))
          variable.assign(tf.fill(variable.shape, name.endsWith(`${target}.gate`) ? value : 0));
      }
    };
    for (const target of ["query", "key", "value"]) {
      set(target, 1);
      const adapted = model.predict(x);
      expect(maxAbsDiff(adapted, base), target).toBeGreaterThan(1e-6);
      adapted.dispose();
    }
    set("none", 0);
    const back = model.predict(x);
    expect(maxAbsDiff(back, base)).toBe(0);
    tf.dispose([x, base, back]);
  });

  it('composed-qkv honours gate.mode: "fixed" equals learnable gates at init, "none" equals learnable gates at 1', () => {
    const x = tinyBatch(TINY_SHAPE, 3, 13);
    const reference = tiny();
    const spec = { method: "kora", rank: 2, apply: "composed-qkv", gate: { per: "channel" } } as const;
    const learnable = applyAdapters(reference, spec, { seed: 3 });
    randomizeAdapter(learnable, 5);
    const tensors = Object.fromEntries(
      Object.entries(learnable.getAdapterTensors({ includeHead: false })).filter(
        ([n]) => !n.endsWith(".gate"),
      ),
    );
    for (const [mode, value] of [
      ["fixed", 0.5],
      ["none", 1],
    ] as const) {
      for (const [name, variable] of learnable.adapterVariables()) {
        if (name.endsWith(".gate")) variable.assign(tf.fill(variable.shape, value));
      }
      const expected = reference.predict(x);
      const model = tiny();
      const handle = applyAdapters(model, { ...spec, gate: { per: "channel", mode, init: value } });
      expect(
        [...handle.adapterVariables().keys()].filter((n) => n.endsWith(".gate")),
        mode,
      ).toEqual([]);
      handle.setAdapterTensors(tensors);
      const actual = model.predict(x);
      expect(maxAbsDiff(actual, expected), mode).toBeLessThan(1e-6);
      tf.dispose([expected, actual]);
    }
    x.dispose();
  });

  for (const input of [
    VARIANTS["cubic B-spline basis with SiLU base, composed-qkv"],
    VARIANTS["rbf basis"],
  ] as AdapterSpecInput[]) {
    it(`saves and loads through the adapter format: identical tensors and outputs (${JSON.stringify(input)})`, async () => {
      const source = tiny();
      const handle = applyAdapters(source, input);
      randomizeAdapter(handle, 12);
      const dir = join(root, `round-trip-${Math.random().toString(36).slice(2)}`);
      const manifest = await saveAdapter(source, dir, { metadata: { seed: "12" } });
      expect(manifest.spec).toEqual(handle.spec());
      const target = tiny();
      const loaded = await loadAdapter(target, dir);
      expect(loaded.spec()).toEqual(handle.spec());
      const saved = handle.getAdapterTensors();
      const restored = loaded.getAdapterTensors();
      expect(Object.keys(restored).sort()).toEqual(Object.keys(saved).sort());
      for (const [name, tensor] of Object.entries(saved))
        expect(restored[name]?.data, name).toEqual(tensor.data);
      const x = tinyBatch(TINY_SHAPE, 4, 9);
      const a = source.predict(x);
      const b = target.predict(x);
      expect(maxAbsDiff(a, b)).toBe(0);
      tf.dispose([x, a, b]);
    });
  }

  it("refuses to merge a learnable basis with NOT_MERGEABLE naming it", () => {
    const model = tiny();
    applyAdapters(model, VARIANTS["rbf basis"] as AdapterSpecInput);
    let error: unknown;
    try {
      mergeAdapters(model);
    } catch (caught) {
      error = caught;
    }
    expect(KoraError.isInstance(error) && error.code).toBe("NOT_MERGEABLE");
    expect((error as Error).message).toMatch(/learnable rbf composition MLP/);
  });
});
