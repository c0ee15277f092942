import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adapterTensorLayout, countParameters, KoraError, parseAdapterSpec, shapeSize } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type AdapterSpecInput,
  applyAdapters,
  loadAdapter,
  mergeAdapters,
  removeAdapters,
  saveAdapter,
} from "../index";
import { maxAbsDiff, randomizeAdapter, sizeOf } from "../test-support/helpers";
import { TINY_SHAPE, TinyTransformer, tinyBatch } from "../test-support/tiny-transformer";

let root = "";
beforeAll(async () => {
  await tf.setBackend("cpu");
  root = await mkdtemp(join(tmpdir(), "kora-tfjs-bottleneck-"));
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

describe("gated bottleneck adapter", () => {
  const variants: Record<string, AdapterSpecInput> = {
    "scalar gate, gelu": { method: "gated-bottleneck" },
    "channel gate, relu, hidden 3, block 1 only": {
      method: "gated-bottleneck",
      hidden: 3,
      activation: "relu",
      gate: { per: "channel" },
      layers: [1],
    },
  };
  for (const [label, input] of Object.entries(variants)) {
    it(`${label}: identity at init; step 1 moves only the gate, step 2 every tensor; sizes equal the counts`, () => {
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
      // g = 0 multiplies every path but the gate's own, whose gradient is non-zero because W₂ and b₂ are.
      expect(moved()).toEqual(variables.map(([n]) => n).filter((n) => n.endsWith(".gate")));
      step();
      expect(moved()).toEqual(variables.map(([n]) => n));
      expect(new Set(layout.map((t) => t.group))).toEqual(new Set(["adapter", "gate"]));
      optimizer.dispose();
      tf.dispose([x, y, base, adapted, ...initial.values()]);
    });
  }

  it("saves and loads through the adapter format: identical tensors and outputs", async () => {
    const source = tiny();
    const handle = applyAdapters(source, { method: "gated-bottleneck", hidden: 5, gate: { per: "channel" } });
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

  it("refuses to merge with NOT_MERGEABLE saying why", () => {
    const model = tiny();
    applyAdapters(model, { method: "gated-bottleneck" });
    let error: unknown;
    try {
      mergeAdapters(model);
    } catch (caught) {
      error = caught;
    }
    expect(KoraError.isInstance(error) && error.code).toBe("NOT_MERGEABLE");
    expect((error as Error).message).toMatch(/gelu activation, so it is not a linear function/);
  });
});
