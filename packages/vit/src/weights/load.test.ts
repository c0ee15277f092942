import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  float32ToFloat16Bits,
  KoraError,
  readSafetensors,
  type SafetensorsTensor,
  writeSafetensors,
} from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createViT } from "../model/vit";
import { loadViT, saveViT } from "../node/files";
import { maxAbsDiff, useBackend, vitMicroFixture } from "../test-support/fixtures";
import { timmConfigOfFixture, toTimmCheckpoint } from "../test-support/golden-suite";
import { parseCheckpointConfig } from "./checkpoint-config";
import { decodeViT } from "./load";
import { encodeViT } from "./save";

const fixture = vitMicroFixture();
const pixelsRef = fixture.io["pixel_values"] as { shape: number[]; data: Float32Array };
let scratch = "";

beforeAll(async () => {
  await useBackend("cpu");
  scratch = mkdtempSync(join(tmpdir(), "kora-vit-"));
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

function tensorsOf(bytes: Uint8Array): Record<string, SafetensorsTensor> {
  return readSafetensors(bytes).tensors;
}

function rewrite(mutate: (tensors: Record<string, SafetensorsTensor>) => void): Uint8Array {
  const tensors = { ...tensorsOf(fixture.weights) };
  mutate(tensors);
  return writeSafetensors(tensors);
}

function errorOf(run: () => unknown): KoraError {
  try {
    run();
  } catch (error) {
    if (KoraError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected a KoraError");
}

function lastHiddenError(vit: ReturnType<typeof decodeViT>): number {
  return tf.tidy(() => {
    const pixels = tf.tensor4d(pixelsRef.data, pixelsRef.shape as [number, number, number, number]);
    const out = vit.forward(pixels, { format: "NCHW" });
    return maxAbsDiff(
      out.lastHiddenState,
      fixture.io["last_hidden_state"] as { shape: number[]; data: Float32Array },
    );
  });
}

describe("saving", () => {
  it("encodeViT(decodeViT(fixture)) reproduces every fixture tensor bit for bit", () => {
    const vit = decodeViT(fixture.weights, fixture.config);
    const original = tensorsOf(fixture.weights);
    const saved = tensorsOf(encodeViT(vit).safetensors);
    expect(Object.keys(saved).sort()).toEqual(Object.keys(original).sort());
    for (const [name, tensor] of Object.entries(original)) {
      expect(saved[name]?.shape, name).toEqual(tensor.shape);
      expect(
        Buffer.from((saved[name] as SafetensorsTensor).data.buffer as ArrayBuffer).equals(
          Buffer.from((tensor.data as Float32Array).buffer),
        ),
        name,
      ).toBe(true);
    }
    vit.dispose();
  });

  it("saveViT → loadViT(folder) is bit-identical for a trained-from-scratch model and a depth head", async () => {
    const vit = createViT(
      { preset: "vit-micro-28", layerNormEps: 1e-6, imageMean: [0.2], imageStd: [0.3] },
      { seed: 5 },
    );
    await saveViT(vit, join(scratch, "micro28"));
    const back = await loadViT(join(scratch, "micro28"));
    expect(back.config).toEqual(vit.config);
    const a = vit.namedParameters();
    const b = back.namedParameters();
    expect(b.map((p) => p.name)).toEqual(a.map((p) => p.name));
    a.forEach((p, i) => {
      expect(Array.from(b[i]?.variable.dataSync() ?? []), p.name).toEqual(Array.from(p.variable.dataSync()));
    });
    back.dispose();
    const { DepthHead } = await import("../model/heads");
    vit.setHead(new DepthHead({ dim: 48, patchSize: 7, imageSize: 28, outChannels: 1 }, { seed: 3 }));
    const encoded = encodeViT(vit);
    const depth = decodeViT(encoded.safetensors, encoded.config);
    expect(depth.head?.kind).toBe("depth");
    expect(Array.from(depth.headVariables()[0]?.dataSync() ?? [])).toEqual(
      Array.from(vit.headVariables()[0]?.dataSync() ?? []),
    );
    depth.dispose();
    vit.dispose();
  });

  it("saveViT(…, { dtype: 'F16' }): every loaded weight is its float16 rounding, in about half the bytes", async () => {
    const vit = createViT({ preset: "vit-mini-28" }, { seed: 7 });
    const f32 = encodeViT(vit).safetensors;
    const f16 = encodeViT(vit, { dtype: "F16" }).safetensors;
    const stored = tensorsOf(f16);
    for (const tensor of Object.values(stored)) expect(tensor.dtype).toBe("F16");
    // The header is shared; the data is exactly half.
    expect(f16.byteLength / f32.byteLength).toBeGreaterThan(0.49);
    expect(f16.byteLength / f32.byteLength).toBeLessThan(0.52);
    await saveViT(vit, join(scratch, "mini-f16"), { dtype: "F16" });
    const back = await loadViT(join(scratch, "mini-f16"));
    expect(back.config).toEqual(vit.config);
    const a = vit.namedParameters();
    const b = back.namedParameters();
    expect(b.map((p) => p.name)).toEqual(a.map((p) => p.name));
    let changed = 0;
    a.forEach((p, i) => {
      const original = p.variable.dataSync();
      const rounded = Array.from(original, (x) => float16BitsToFloat32(float32ToFloat16Bits(x)));
      const loaded = Array.from(b[i]?.variable.dataSync() ?? []);
      expect(loaded, p.name).toEqual(rounded);
      changed += rounded.filter((x, j) => x !== original[j]).length;
    });
    // Not a disguised F32 copy: random weights are almost never exact float16 values.
    expect(changed).toBeGreaterThan(1000);
    back.dispose();
    vit.dispose();
  });

  it("encodeViT refuses a dtype other than F32 and F16 (INVALID_ARGUMENT naming dtype)", () => {
    const vit = createViT({ preset: "vit-micro-28" }, { seed: 1 });
    for (const dtype of ["BF16", "f16", ""]) {
      let error: unknown;
      try {
        encodeViT(vit, { dtype: dtype as "F16" });
      } catch (e) {
        error = e;
      }
      expect(KoraError.isInstance(error), dtype).toBe(true);
      expect(error).toMatchObject({ code: "INVALID_ARGUMENT", path: "dtype" });
      expect((error as Error).message).toContain('dtype must be "F32" or "F16"');
    }
    vit.dispose();
  });

  it("loadViT reads a weights file with its config beside it or given as a path, and reports missing files", async () => {
    const dir = join(scratch, "files");
    const original = decodeViT(fixture.weights, fixture.config);
    await saveViT(original, dir);
    original.dispose();
    const fromFile = await loadViT(join(dir, "model.safetensors"));
    expect(lastHiddenError(fromFile)).toBeLessThanOrEqual(1e-4);
    fromFile.dispose();
    writeFileSync(join(scratch, "hf-config.json"), JSON.stringify(fixture.config));
    const withPath = await loadViT(join(dir, "model.safetensors"), join(scratch, "hf-config.json"));
    expect(withPath.config.numClasses).toBe(10);
    withPath.dispose();
    await expect(loadViT(join(scratch, "nope.safetensors"))).rejects.toMatchObject({
      code: "FILE_NOT_FOUND",
    });
    await expect(loadViT(fixture.weights)).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      path: "config",
    });
  });
});

describe("timm names", () => {
  it("timm weights (fused qkv) load into exactly the HF-loaded variables", () => {
    const hf = decodeViT(fixture.weights, fixture.config);
    const timm = decodeViT(toTimmCheckpoint(fixture.weights), timmConfigOfFixture(fixture.config));
    const a = hf.namedParameters();
    const b = timm.namedParameters();
    expect(b.map((p) => p.name)).toEqual(a.map((p) => p.name));
    a.forEach((p, i) => {
      expect(Array.from(b[i]?.variable.dataSync() ?? []), p.name).toEqual(Array.from(p.variable.dataSync()));
    });
    hf.dispose();
    timm.dispose();
  });
});

describe("weight-loading errors", () => {
  it("lists every missing, unexpected and wrong-shaped tensor at once", () => {
    const bytes = rewrite((t) => {
      delete t["vit.encoder.layer.1.attention.attention.key.weight"];
      delete t["vit.layernorm.bias"];
      t["vit.encoder.layer.0.extra.weight"] = { dtype: "F32", shape: [2], data: new Float32Array(2) };
      t["something.else"] = { dtype: "F32", shape: [1], data: new Float32Array(1) };
      t["vit.encoder.layer.2.intermediate.dense.bias"] = {
        dtype: "F32",
        shape: [191],
        data: new Float32Array(191),
      };
      t["classifier.weight"] = { dtype: "F32", shape: [10, 47], data: new Float32Array(470) };
    });
    const error = errorOf(() => decodeViT(bytes, fixture.config));
    expect(error.code).toBe("WEIGHTS_MISMATCH");
    for (const name of [
      "vit.encoder.layer.1.attention.attention.key.weight",
      "vit.layernorm.bias",
      "vit.encoder.layer.0.extra.weight",
      "something.else",
      "vit.encoder.layer.2.intermediate.dense.bias is [191]",
      "classifier.weight is [10, 47]",
    ]) {
      expect(error.message).toContain(name);
    }
    expect(error.message).toMatch(/missing \(2\)/);
    expect(error.message).toMatch(/unexpected \(2/);
    expect(error.message).toMatch(/wrong shape \(2\)/);
  });

  it("allows unexpected tensors by option, and ignores a bare ViTModel's pooler", () => {
    const extra = rewrite((t) => {
      t["vit.encoder.layer.0.extra.weight"] = { dtype: "F32", shape: [2], data: new Float32Array(2) };
    });
    expect(() => decodeViT(extra, fixture.config)).toThrow(/unexpected/);
    const vit = decodeViT(extra, fixture.config, { allowUnexpected: true });
    expect(lastHiddenError(vit)).toBeLessThanOrEqual(1e-4);
    vit.dispose();
    // Bare ViTModel: no "vit." prefix, a pooler, no classifier.
    const bare = rewrite((t) => {
      for (const name of Object.keys(t)) {
        const tensor = t[name] as SafetensorsTensor;
        delete t[name];
        if (name.startsWith("vit.")) t[name.slice(4)] = tensor;
      }
      t["pooler.dense.weight"] = { dtype: "F32", shape: [48, 48], data: new Float32Array(48 * 48) };
      t["pooler.dense.bias"] = { dtype: "F32", shape: [48], data: new Float32Array(48) };
    });
    const model = decodeViT(bare, { ...fixture.config, architectures: ["ViTModel"] });
    expect(model.head).toBeNull();
    expect(lastHiddenError(model)).toBeLessThanOrEqual(1e-4);
    model.dispose();
  });

  it("a config that disagrees with the weights names the tensors; a non-float tensor is reported", () => {
    const error = errorOf(() =>
      decodeViT(fixture.weights, { ...fixture.config, patch_size: 4, num_hidden_layers: 2 }),
    );
    expect(error.code).toBe("WEIGHTS_MISMATCH");
    expect(error.message).toContain("vit.embeddings.patch_embeddings.projection.weight is [48, 3, 8, 8]");
    expect(error.message).toContain("vit.embeddings.position_embeddings is [1, 17, 48]");
    expect(error.message).toContain("vit.encoder.layer.2.output.dense.bias");
    const ints = rewrite((t) => {
      t["vit.layernorm.bias"] = { dtype: "I32", shape: [48], data: new Int32Array(48) };
    });
    expect(errorOf(() => decodeViT(ints, fixture.config)).message).toContain("vit.layernorm.bias: dtype I32");
  });
});

describe("loading options and dtypes", () => {
  it("F16 and BF16 checkpoints load to exactly the rounded float32 values", () => {
    for (const dtype of ["F16", "BF16"] as const) {
      const bytes = rewrite((t) => {
        for (const [name, tensor] of Object.entries(t)) {
          const convert = dtype === "F16" ? float32ToFloat16Bits : float32ToBfloat16Bits;
          const bits = new Uint16Array(tensor.data.length);
          (tensor.data as Float32Array).forEach((v, i) => {
            bits[i] = convert(v);
          });
          t[name] = { dtype, shape: tensor.shape, data: bits };
        }
      });
      const vit = decodeViT(bytes, fixture.config);
      const query = tensorsOf(fixture.weights)["vit.encoder.layer.0.attention.attention.query.bias"]
        ?.data as Float32Array;
      const loaded = vit.blocks[0]?.attention.query.bias?.dataSync() as Float32Array;
      const expected = Array.from(query, (v) =>
        dtype === "F16"
          ? float16BitsToFloat32(float32ToFloat16Bits(v))
          : new Float32Array(new Uint32Array([float32ToBfloat16Bits(v) << 16]).buffer)[0],
      );
      expect(Array.from(loaded)).toEqual(expected);
      expect(lastHiddenError(vit)).toBeLessThan(dtype === "F16" ? 0.05 : 0.3);
      vit.dispose();
    }
  });

  it("replaces the head by option and resamples position embeddings for another image size", () => {
    const vit = decodeViT(fixture.weights, fixture.config, { numClasses: 4, seed: 1, imageSize: 48 });
    expect(vit.config).toMatchObject({ numClasses: 4, imageSize: 48 });
    expect(vit.positionEmbeddings.shape).toEqual([1, 37, 48]);
    const original = tensorsOf(fixture.weights)["vit.embeddings.position_embeddings"]?.data as Float32Array;
    expect(Array.from(vit.positionEmbeddings.dataSync().subarray(0, 48))).toEqual(
      Array.from(original.subarray(0, 48)),
    );
    tf.tidy(() => {
      expect(vit.forward(tf.zeros([1, 48, 48, 3]), { format: "NHWC" }).logits?.shape).toEqual([1, 4]);
    });
    vit.dispose();
    const same = decodeViT(fixture.weights, fixture.config, { imageSize: 32 });
    expect(Array.from(same.positionEmbeddings.dataSync())).toEqual(Array.from(original));
    same.dispose();
    expect(() => decodeViT(fixture.weights, fixture.config, { imageSize: 50 })).toThrow(
      /multiple of the patch size/,
    );
  });
});

describe("parseCheckpointConfig", () => {
  it("reads HF configs with HF defaults and eps 1e-12; timm names imply the shape with eps 1e-6", () => {
    expect(parseCheckpointConfig(fixture.config)).toMatchObject({
      source: "hf",
      config: {
        dim: 48,
        depth: 3,
        heads: 3,
        mlpDim: 192,
        imageSize: 32,
        patchSize: 8,
        numClasses: 10,
        layerNormEps: 1e-12,
      },
    });
    expect(parseCheckpointConfig({ model_type: "vit" }).config).toMatchObject({
      dim: 768,
      depth: 12,
      imageSize: 224,
      numClasses: 0,
    });
    const timm = parseCheckpointConfig({
      architecture: "vit_base_patch16_224.augreg2_in21k_ft_in1k",
      num_classes: 1000,
      pretrained_cfg: { input_size: [3, 224, 224], mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
    });
    expect(timm).toMatchObject({
      source: "timm",
      config: {
        dim: 768,
        depth: 12,
        heads: 12,
        mlpDim: 3072,
        patchSize: 16,
        imageSize: 224,
        numClasses: 1000,
        layerNormEps: 1e-6,
      },
    });
    expect(
      parseCheckpointConfig({ architecture: "vit_small_patch32_384", num_classes: 0 }).config,
    ).toMatchObject({
      dim: 384,
      heads: 6,
      patchSize: 32,
      imageSize: 384,
      numClasses: 0,
    });
  });

  it("rejects what the model cannot compute, naming the field", () => {
    expect(errorOf(() => parseCheckpointConfig({ model_type: "vit", hidden_act: "relu" }))).toMatchObject({
      code: "INVALID_CONFIG",
      path: "hidden_act",
    });
    const timm = errorOf(() =>
      parseCheckpointConfig({
        architecture: "vit_base_patch16_224",
        model_args: { global_pool: "avg", class_token: false },
      }),
    );
    expect(timm.message).toContain("class_token=false");
    expect(timm.message).toContain('global_pool="avg"');
    expect(errorOf(() => parseCheckpointConfig({ architecture: "vit_custom" })).message).toMatch(
      /cannot tell/,
    );
  });
});
