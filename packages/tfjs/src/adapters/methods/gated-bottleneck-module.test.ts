import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  adapterTensorLayout,
  countParameters,
  foldKoraIntoBottleneck,
  KoraError,
  type KoraSpec,
  parseAdapterSpec,
  shapeSize,
} from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadAdapter, saveAdapter } from "../../node";
import { type AdapterSpecInput, applyAdapters, mergeAdapters, removeAdapters } from "../index";
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

describe("foldKoraIntoBottleneck: KoRA-mlp on V is a gated bottleneck adapter", () => {
  const variants: Record<string, AdapterSpecInput> = {
    "defaults (r 8, h 4, gelu, scalar gate)": { method: "kora" },
    "r 2, h 16 > 3r, relu, channel gate, rsLoRA, block 0 only": {
      method: "kora",
      rank: 2,
      alpha: 5,
      rslora: true,
      layers: [0],
      composition: { hidden: 16, activation: "relu" },
      gate: { per: "channel" },
    },
    "no biases, tanh, fixed gate": {
      method: "kora",
      rank: 3,
      composition: { hidden: 2, activation: "tanh", bias: false },
      gate: { mode: "fixed", init: 0.7 },
    },
  };
  for (const [label, input] of Object.entries(variants)) {
    it(`${label}: outputs equal to float32 (max |Δ| ≤ 2e-6 on logits up to ~4)`, () => {
      const kora = tiny(3);
      const handle = applyAdapters(kora, input, { seed: 1 });
      // Random non-zero weights everywhere (gate included), so every term of the fold matters.
      randomizeAdapter(handle, 21, 0.3);
      const folded = foldKoraIntoBottleneck(
        handle.spec() as KoraSpec,
        TINY_SHAPE,
        handle.getAdapterTensors({ includeHead: false }),
      );
      const twin = tiny(3);
      const twinHandle = applyAdapters(twin, folded.spec);
      twinHandle.setAdapterTensors(folded.tensors);
      const x = tinyBatch(TINY_SHAPE, 16, 40);
      const a = kora.predict(x);
      const b = twin.predict(x);
      const scale = tf.tidy(() => tf.max(tf.abs(a)).dataSync()[0] as number);
      expect(scale).toBeGreaterThan(0.1);
      // The adapters change the output (so the comparison is not between two base models).
      twinHandle.disableAdapters();
      const plain = twin.predict(x);
      expect(maxAbsDiff(plain, a)).toBeGreaterThan(1e-2);
      // Tolerance: the two models sum the same terms in a different order in float32. The logits reach |3.5–3.9|,
      // where one ulp is 2.4e-7 to 4.8e-7; measured max |Δ| 4.8e-7 to 8.3e-7 over the three variants (≤ 2 ulp at 4).
      // 2e-6 (about 4 ulp) leaves room for other backends' summation order and still fails a wrong fold, which is
      // off by the size of an adapter term (≥ 1e-2 here, checked above).
      expect(maxAbsDiff(a, b)).toBeLessThanOrEqual(2e-6);
      tf.dispose([x, a, b, plain]);
    });
  }
});
