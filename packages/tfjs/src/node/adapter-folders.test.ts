import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { countParameters, KoraError, parseAdapterSpec, readSafetensors } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type AdapterSpecInput, applyAdapters, getAdapterHandle, removeAdapters } from "../adapters/index";
import { maxAbsDiff, randomizeAdapter, sizeOf } from "../adapters/test-support/helpers";
import { type PlainLora, plainForward } from "../adapters/test-support/plain-forward";
import { TINY_SHAPE, TinyTransformer, tinyBatch } from "../adapters/test-support/tiny-transformer";
import { exportPeft, importPeft, loadAdapter, loadFusionAdapter, saveAdapter } from "./adapter-folders";

let root = "";
beforeAll(async () => {
  await tf.setBackend("cpu");
  root = await mkdtemp(join(tmpdir(), "kora-tfjs-adapters-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const models: TinyTransformer[] = [];
function tiny(shape = TINY_SHAPE, seed = 7): TinyTransformer {
  const model = new TinyTransformer(shape, seed);
  models.push(model);
  return model;
}
afterEach(() => {
  for (const model of models.splice(0)) {
    removeAdapters(model);
    model.dispose();
  }
});

function randomizeHead(model: TinyTransformer, seed: number): void {
  for (const [i, v] of model.headVariables().entries()) {
    tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.7, "float32", seed + i)));
  }
}

describe("saveAdapter / loadAdapter", () => {
  const cases: Record<string, AdapterSpecInput> = {
    lora: { method: "lora", rank: 3, targets: ["query", "output", "fc1"], layers: [1] },
    kora: {
      method: "kora",
      rank: 2,
      composition: { kind: "attention", hidden: 3 },
      gate: { per: "channel" },
    },
    "adapter-fusion": {
      method: "adapter-fusion",
      adapters: ["x", "y"],
      bottleneck: 2,
      fusion: { variant: "dynamic" },
    },
  };
  for (const [label, input] of Object.entries(cases)) {
    it(`${label}: round trip is exact (tensors bit for bit, outputs identical on the same backbone)`, async () => {
      const source = tiny();
      const handle = applyAdapters(source, input, { name: "trained" });
      randomizeAdapter(handle, 21);
      randomizeHead(source, 5);
      const dir = join(root, `round-trip-${label}`);
      const manifest = await saveAdapter(source, dir, { metadata: { dataset: "synthetic" } });
      expect(manifest.name).toBe("trained");
      expect(manifest.includesHead).toBe(true);
      expect(manifest.spec).toEqual(parseAdapterSpec(input));

      const target = tiny();
      const loaded = await loadAdapter(target, dir);
      expect(loaded.adapterNames).toEqual(["trained"]);
      const saved = handle.getAdapterTensors();
      const restored = loaded.getAdapterTensors();
      expect(Object.keys(restored)).toEqual(Object.keys(saved));
      for (const [name, tensor] of Object.entries(saved)) {
        expect(restored[name]?.shape).toEqual(tensor.shape);
        expect(Buffer.from(restored[name]!.data.buffer).equals(Buffer.from(tensor.data.buffer))).toBe(true);
      }
      const x = tinyBatch(TINY_SHAPE, 3, 22);
      const a = source.predict(x);
      const b = target.predict(x);
      expect(maxAbsDiff(a, b)).toBe(0);
      expect(sizeOf(loaded.trainableVariables())).toBe(
        countParameters(parseAdapterSpec(input), TINY_SHAPE).trainable,
      );
      tf.dispose([x, a, b]);
    });
  }

  it("loading onto a backbone of another shape is SHAPE_MISMATCH naming both shapes", async () => {
    const source = tiny();
    applyAdapters(source, { method: "lora" });
    const dir = join(root, "wrong-backbone");
    await saveAdapter(source, dir);
    const other = tiny({ ...TINY_SHAPE, dim: 16, mlpDim: 32 });
    const error = await loadAdapter(other, dir).catch((e: unknown) => e);
    expect(KoraError.isInstance(error) && error.code).toBe("SHAPE_MISMATCH");
    expect((error as Error).message).toMatch(
      /made for backbone \{dim 8, depth 2.*but the model is \{dim 16, depth 2/,
    );
    expect((error as Error).message).toMatch(/dim, mlpDim differ/);
    expect(getAdapterHandle(other)).toBeUndefined();
  });

  it("loading into an existing adapter of another spec is refused", async () => {
    const source = tiny();
    applyAdapters(source, { method: "lora", rank: 2 });
    const dir = join(root, "spec-mismatch");
    await saveAdapter(source, dir);
    const target = tiny();
    applyAdapters(target, { method: "lora", rank: 4 });
    await expect(loadAdapter(target, dir)).rejects.toThrow(/already attached with spec/);
    await expect(loadAdapter(target, dir, { name: "second" })).resolves.toBeDefined();
    expect(getAdapterHandle(target)?.adapterNames).toEqual(["default", "second"]);
  });
});

describe("exportPeft / importPeft", () => {
  it("writes peft's config and tensors; plain-math re-application matches the adapted model to 1e-5", async () => {
    const model = tiny();
    const handle = applyAdapters(model, {
      method: "lora",
      rank: 4,
      alpha: 8,
      rslora: true,
      dropout: 0.1,
      targets: ["query", "value", "fc2"],
    });
    randomizeAdapter(handle, 31);
    randomizeHead(model, 9);
    const dir = join(root, "peft");
    await exportPeft(model, dir, { baseModel: "google/vit-base-patch16-224-in21k" });
    const config = JSON.parse(await readFile(join(dir, "adapter_config.json"), "utf8"));
    expect(config).toMatchObject({
      peft_type: "LORA",
      r: 4,
      lora_alpha: 8,
      lora_dropout: 0.1,
      bias: "none",
      modules_to_save: ["classifier"],
      use_rslora: true,
      base_model_name_or_path: "google/vit-base-patch16-224-in21k",
    });
    expect(config.target_modules).toBe(
      ".*\\.encoder\\.layer\\.\\d+\\.(?:attention\\.attention\\.query|attention\\.attention\\.value|output\\.dense)",
    );
    const file = readSafetensors(new Uint8Array(await readFile(join(dir, "adapter_model.safetensors"))), {
      asFloat32: true,
    });
    expect(file.metadata).toEqual({ format: "pt" });
    const a0 = file.tensors["base_model.model.vit.encoder.layer.0.attention.attention.query.lora_A.weight"];
    const b0 = file.tensors["base_model.model.vit.encoder.layer.0.attention.attention.query.lora_B.weight"];
    expect(a0?.shape).toEqual([4, 8]);
    expect(b0?.shape).toEqual([8, 4]);
    expect(file.tensors["base_model.model.vit.encoder.layer.1.output.dense.lora_A.weight"]?.shape).toEqual([
      4, 16,
    ]);
    expect(Object.keys(file.tensors)).toHaveLength(2 * 3 * 2 + 2);

    // Independent re-application: HF module path → site, s = α/√r from the config, PyTorch layouts as stored.
    const scale = config.lora_alpha / Math.sqrt(config.r);
    const lora: Record<string, PlainLora> = {};
    const targets: Record<string, string> = {
      "attention.attention.query": "query",
      "attention.attention.value": "value",
      "output.dense": "fc2",
    };
    for (const [name, tensor] of Object.entries(file.tensors)) {
      const m = /^base_model\.model\.vit\.encoder\.layer\.(\d+)\.(.+)\.lora_A\.weight$/.exec(name);
      if (m === null) continue;
      const b = file.tensors[name.replace("lora_A", "lora_B")]!;
      lora[`${m[1]}.${targets[m[2]!]}`] = {
        a: { shape: tensor.shape, data: tensor.data as Float32Array },
        b: { shape: b.shape, data: b.data as Float32Array },
        scale,
      };
    }
    const headWeight = file.tensors["base_model.model.classifier.weight"]!;
    const headBias = file.tensors["base_model.model.classifier.bias"]!;
    const x = tinyBatch(TINY_SHAPE, 3, 32);
    const expected = model.predict(x);
    const patches = (await x.array()) as number[][][];
    const plain = plainForward(TINY_SHAPE, model.snapshot(), patches, lora, {
      weight: { shape: headWeight.shape, data: headWeight.data as Float32Array },
      bias: { data: headBias.data as Float32Array },
    });
    const plainBase = plainForward(TINY_SHAPE, model.snapshot(), patches);
    const got = tf.tensor2d(plain);
    const gotBase = tf.tensor2d(plainBase);
    expect(maxAbsDiff(got, expected)).toBeLessThan(1e-5);
    expect(maxAbsDiff(gotBase, expected)).toBeGreaterThan(1e-2); // the adapter and head matter

    const fresh = tiny();
    const imported = await importPeft(fresh, dir);
    expect(imported.spec()).toEqual(handle.spec());
    const again = fresh.predict(x);
    expect(maxAbsDiff(again, expected)).toBe(0);
    tf.dispose([x, expected, got, gotBase, again]);
  });

  it("refuses KoRA with a clear error", async () => {
    const model = tiny();
    applyAdapters(model, { method: "kora" });
    await expect(exportPeft(model, join(root, "peft-kora"))).rejects.toThrow(
      /kora adapter, and peft has no equivalent/,
    );
  });
});

describe("two-stage AdapterFusion", () => {
  it("loads stage-1 bottleneck adapters into a fusion, freezes them and trains only the fusion", async () => {
    const dirs: Record<string, string> = {};
    const stage1: Record<string, Record<string, { data: Float32Array }>> = {};
    for (const task of ["taskA", "taskB"]) {
      const model = tiny();
      const handle = applyAdapters(model, { method: "adapter-fusion", adapters: [task], reduction: 4 });
      randomizeAdapter(handle, task.length + task.charCodeAt(4));
      dirs[task] = join(root, `stage1-${task}`);
      await saveAdapter(model, dirs[task]!, { includeHead: false });
      stage1[task] = handle.getAdapterTensors({ includeHead: false });
    }
    const spec: AdapterSpecInput = {
      method: "adapter-fusion",
      adapters: ["taskA", "taskB"],
      reduction: 4,
      training: "two-stage",
    };
    const model = tiny();
    const handle = applyAdapters(model, spec);
    await loadFusionAdapter(model, dirs["taskA"]!, { into: "taskA" });
    await loadFusionAdapter(model, dirs["taskB"]!, { into: "taskB" });
    const tensors = handle.getAdapterTensors({ includeHead: false });
    for (const task of ["taskA", "taskB"]) {
      for (const layer of [0, 1]) {
        for (const part of ["down.weight", "down.bias", "up.weight", "up.bias"]) {
          const name = `layers.${layer}.adapters.${task}.${part}`;
          expect(Array.from(tensors[name]!.data)).toEqual(Array.from(stage1[task]![name]!.data));
        }
      }
    }
    const trainable = handle.trainableVariables();
    expect(sizeOf(trainable)).toBe(countParameters(parseAdapterSpec(spec), TINY_SHAPE).trainable);
    expect(trainable.some((v) => v.name.includes(".adapters."))).toBe(false);
    const x = tinyBatch(TINY_SHAPE, 2, 40);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(model.predict(x, true))) as tf.Scalar);
    expect(Object.keys(grads).some((n) => n.includes(".adapters."))).toBe(false);
    expect(Object.keys(grads).some((n) => n.includes(".fusion.query"))).toBe(true);
    tf.dispose([x, value, grads]);

    const wrong = tiny();
    applyAdapters(wrong, {
      method: "adapter-fusion",
      adapters: ["taskA", "taskB"],
      bottleneck: 3,
      training: "two-stage",
    });
    await expect(loadFusionAdapter(wrong, dirs["taskA"]!, { into: "taskA" })).rejects.toThrow(
      /different bottleneck/,
    );
  });
});
