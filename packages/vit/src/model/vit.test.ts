import { backboneParameterCount, headParameterCount, KoraError } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { VIT_PRESETS, type ViTPresetName } from "../config/presets";
import { resolveViTConfig, toBackboneShape } from "../config/vit-config";
import { useBackend } from "../test-support/fixtures";
import { ClassificationHead, DepthHead } from "./heads";
import { backboneParameterSpecs } from "./layout";
import { createViT } from "./vit";

beforeAll(async () => {
  await useBackend("cpu");
});

function elements(variables: tf.Variable[]): number {
  return variables.reduce((total, variable) => total + variable.size, 0);
}

function randomPixels(batch: number, size: number, channels: number, seed: number): tf.Tensor4D {
  return tf.randomUniform([batch, size, size, channels], -1, 1, "float32", seed) as tf.Tensor4D;
}

describe("parameter counts", () => {
  it("every preset's parameter layout sums to @kora/spec's backbone count", () => {
    for (const name of Object.keys(VIT_PRESETS) as ViTPresetName[]) {
      const config = resolveViTConfig(name);
      const total = backboneParameterSpecs(config).reduce(
        (sum, spec) => sum + spec.shape.reduce((a, b) => a * b, 1),
        0,
      );
      expect(total, name).toBe(backboneParameterCount(toBackboneShape(config)));
    }
    // ViT-B/16 with a 1000-class head: 86,567,656 as timm reports for vit_base_patch16_224.
    const base = toBackboneShape(resolveViTConfig("vit-base"));
    expect(backboneParameterCount(base) + headParameterCount(base)).toBe(86_567_656);
  });

  it("a created model's variables hold exactly backboneParameterCount + headParameterCount elements", () => {
    for (const name of ["vit-micro", "vit-micro-28"] as const) {
      const vit = createViT(name);
      try {
        expect(elements(vit.backboneVariables())).toBe(backboneParameterCount(vit.backboneShape));
        expect(elements(vit.headVariables())).toBe(headParameterCount(vit.backboneShape));
        expect(vit.backboneShape.numClasses).toBe(10);
      } finally {
        vit.dispose();
      }
    }
  });
});

describe("createViT", () => {
  it.each([0, 1, 42])("is deterministic for seed %i (tfjs treats a seed of 0 as unseeded)", (seed) => {
    const values = () => {
      const vit = createViT("vit-micro", { seed });
      const head = new ClassificationHead(48, 5, { seed });
      const all = [...vit.namedParameters().map((p) => p.variable), ...head.variables()].map(
        (v) => v.dataSync().slice() as Float32Array,
      );
      vit.dispose();
      return all;
    };
    const first = values();
    const second = values();
    expect(second.length).toBe(first.length);
    for (const [i, data] of second.entries()) expect(data).toEqual(first[i]);
  });

  it("is deterministic per seed and initialises like Hugging Face (LayerNorm γ=1, β=0, biases 0)", () => {
    const a = createViT("vit-micro", { seed: 3 });
    const b = createViT("vit-micro", { seed: 3 });
    const c = createViT("vit-micro", { seed: 4 });
    try {
      const first = a.blocks[0];
      expect(Array.from(first?.normBeforeGamma.dataSync() ?? [])).toEqual(new Array(48).fill(1));
      expect(Array.from(first?.attention.query.bias?.dataSync() ?? [])).toEqual(new Array(48).fill(0));
      const q = (vit: typeof a) => Array.from(vit.blocks[1]?.attention.query.kernel.dataSync() ?? []);
      expect(q(a)).toEqual(q(b));
      expect(q(a)).not.toEqual(q(c));
      const std = Math.sqrt(q(a).reduce((s, v) => s + v * v, 0) / q(a).length);
      expect(std).toBeGreaterThan(0.012);
      expect(std).toBeLessThan(0.02);
    } finally {
      a.dispose();
      b.dispose();
      c.dispose();
    }
  });

  it("rejects inconsistent configs naming the field", () => {
    const fails = (input: Parameters<typeof resolveViTConfig>[0], path: string) => {
      try {
        resolveViTConfig(input);
        expect.unreachable();
      } catch (error) {
        expect(KoraError.isInstance(error)).toBe(true);
        expect((error as KoraError).path).toBe(path);
      }
    };
    fails({ preset: "vit-micro", heads: 5 }, "heads");
    fails({ preset: "vit-micro", patchSize: 5 }, "patchSize");
    fails({ preset: "vit-micro", layerNormEps: 0 }, "layerNormEps");
    fails({ preset: "vit-micro", imageMean: [0.5] }, "imageMean");
    fails({ imageSize: 32, patchSize: 8 }, "dim");
    fails({ preset: "vit-huge" as "vit-tiny" }, "preset");
    expect(resolveViTConfig({ preset: "vit-tiny", numClasses: 7, layerNormEps: 1e-6 })).toMatchObject({
      dim: 192,
      numClasses: 7,
      layerNormEps: 1e-6,
    });
  });
});

describe("forward", () => {
  it("rejects a missing or unknown format with INVALID_ARGUMENT instead of reading the batch as NHWC", () => {
    const vit = createViT("vit-micro");
    const pixels = tf.zeros([1, 32, 32, 3]) as tf.Tensor4D;
    try {
      const codeOf = (run: () => unknown) => {
        try {
          run();
        } catch (error) {
          return KoraError.isInstance(error) ? `${error.code} ${error.path} ${error.message}` : String(error);
        }
        return "no error";
      };
      // A JavaScript caller can omit what the typings require; the casts stand for that caller.
      const untyped = vit as unknown as {
        forward(pixels: tf.Tensor4D, options?: object): unknown;
        features(pixels: tf.Tensor4D, options?: object): unknown;
      };
      expect(codeOf(() => untyped.forward(pixels, { training: true }))).toMatch(
        /^INVALID_ARGUMENT format .*no format/,
      );
      expect(codeOf(() => untyped.forward(pixels))).toMatch(/^INVALID_ARGUMENT format ViT\.forward/);
      expect(codeOf(() => untyped.features(pixels, { pool: "cls" }))).toMatch(
        /^INVALID_ARGUMENT format ViT\.features/,
      );
      expect(codeOf(() => untyped.forward(pixels, { format: "nhwc" }))).toMatch(/got "nhwc"/);
      expect(vit.forward(pixels, { format: "NHWC" }).logits?.shape).toEqual([1, 10]);
    } finally {
      pixels.dispose();
      vit.dispose();
    }
  });

  it("rejects a batch of the wrong size or layout with SHAPE_MISMATCH", () => {
    const vit = createViT("vit-micro");
    try {
      const wrong = tf.zeros([1, 3, 32, 32]) as tf.Tensor4D;
      expect(() => vit.forward(wrong, { format: "NHWC" })).toThrow(/NHWC.*\[B, 32, 32, 3\]/);
      expect(vit.forward(wrong, { format: "NCHW" }).logits?.shape).toEqual([1, 10]);
      wrong.dispose();
    } finally {
      vit.dispose();
    }
  });

  it("feature taps: embeddings + every block, pooled as CLS, patch mean, flattened tokens; features() agrees", () => {
    const vit = createViT("vit-micro", { seed: 1 });
    tf.tidy(() => {
      const pixels = randomPixels(2, 32, 3, 5);
      const full = vit.forward(pixels, { format: "NHWC", hiddenStates: true });
      expect(full.hiddenStates.map((s) => s.shape)).toEqual(new Array(4).fill([2, 17, 48]));
      const cls = vit.forward(pixels, { format: "NHWC", hiddenStates: true, pool: "cls" }).hiddenStates;
      const mean = vit.features(pixels, { format: "NHWC", pool: "mean" });
      const tokens = vit.features(pixels, { format: "NHWC", pool: "tokens" });
      for (let k = 0; k < 4; k++) {
        const state = full.hiddenStates[k] as tf.Tensor3D;
        expect(cls[k]?.shape).toEqual([2, 48]);
        expect(cls[k]?.arraySync()).toEqual(state.slice([0, 0, 0], [2, 1, 48]).reshape([2, 48]).arraySync());
        const manualMean = state.slice([0, 1, 0], [2, 16, 48]).sum(1).div(16);
        expect(tf.max(tf.abs(tf.sub(mean[k] as tf.Tensor, manualMean))).dataSync()[0]).toBeLessThan(1e-6);
        expect(tokens[k]?.shape).toEqual([2, 17 * 48]);
        expect(Array.from(tokens[k]?.dataSync() ?? [])).toEqual(Array.from(state.dataSync()));
      }
      // Without hiddenStates nothing is tapped; the blocks change the states.
      expect(vit.forward(pixels, { format: "NHWC" }).hiddenStates).toEqual([]);
      expect(
        tf
          .max(tf.abs(tf.sub(full.hiddenStates[0] as tf.Tensor, full.hiddenStates[3] as tf.Tensor)))
          .dataSync()[0],
      ).toBeGreaterThan(0.01);
    });
    vit.dispose();
  });

  it("leaves no tensors behind apart from its outputs", () => {
    const vit = createViT("vit-micro");
    const pixels = randomPixels(2, 32, 3, 1);
    const before = tf.memory().numTensors;
    const out = vit.forward(pixels, { format: "NHWC", hiddenStates: true, pool: "mean" });
    expect(tf.memory().numTensors).toBe(before + 2 + 4);
    tf.dispose([out.logits as tf.Tensor, out.lastHiddenState, ...out.hiddenStates]);
    expect(tf.memory().numTensors).toBe(before);
    pixels.dispose();
    vit.dispose();
  });
});

describe("adapter sites", () => {
  it("exposes q/k/v/o and fc1/fc2 per block; hooks on them change the forward pass", () => {
    const vit = createViT("vit-micro", { seed: 2 });
    expect(vit.attentionSites.map((s) => s.layer)).toEqual([0, 1, 2]);
    const site = vit.attentionSites[1];
    const mlp = vit.mlpSites[2];
    if (site === undefined || mlp === undefined) throw new Error("missing sites");
    expect([site.query.target, site.key.target, site.value.target, site.output.target]).toEqual([
      "query",
      "key",
      "value",
      "output",
    ]);
    expect([mlp.fc1.inFeatures, mlp.fc1.outFeatures, mlp.fc2.inFeatures, mlp.fc2.outFeatures]).toEqual([
      48, 192, 192, 48,
    ]);
    const pixels = randomPixels(1, 32, 3, 9);
    const logits = () =>
      tf.tidy(() => Array.from(vit.forward(pixels, { format: "NHWC" }).logits?.dataSync() ?? []));
    const base = logits();
    const seen: number[][] = [];
    site.value.deltaHook = (x) => {
      seen.push([...x.shape]);
      return tf.onesLike(x);
    };
    expect(logits()).not.toEqual(base);
    expect(seen).toEqual([[17, 48]]);
    site.value.deltaHook = null;
    expect(logits()).toEqual(base);
    site.qkvHook = (_x, qkv) => ({ ...qkv, v: tf.mul(qkv.v, 2) as tf.Tensor2D });
    expect(logits()).not.toEqual(base);
    site.qkvHook = null;
    const ffnShapes: number[][] = [];
    mlp.feedForwardHook = (hidden, output) => {
      ffnShapes.push([...hidden.shape], [...output.shape]);
      return tf.zerosLike(output);
    };
    expect(logits()).not.toEqual(base);
    expect(ffnShapes).toEqual([
      [17, 48],
      [17, 48],
    ]);
    mlp.feedForwardHook = null;
    expect(logits()).toEqual(base);
    pixels.dispose();
    vit.dispose();
  });
});

describe("heads", () => {
  it("a new classification head changes the classes without touching the backbone", () => {
    const vit = createViT("vit-micro", { seed: 1 });
    const backbone = vit.backboneVariables();
    const before = tf.memory().numTensors;
    vit.setHead(new ClassificationHead(48, 5, { seed: 9 }));
    expect(tf.memory().numTensors).toBe(before); // old head (2 tensors) disposed, new head (2) created
    expect(vit.backboneVariables()).toEqual(backbone);
    expect(vit.backboneShape.numClasses).toBe(5);
    expect(elements(vit.headVariables())).toBe(48 * 5 + 5);
    tf.tidy(() => {
      expect(vit.forward(randomPixels(3, 32, 3, 2), { format: "NHWC" }).logits?.shape).toEqual([3, 5]);
    });
    vit.setHead(null);
    expect(vit.backboneShape.numClasses).toBe(0);
    expect(vit.headVariables()).toEqual([]);
    vit.dispose();
  });

  it("the depth head lays each patch's outputs out as that patch's pixels at full resolution", () => {
    const vit = createViT({ preset: "vit-micro", numClasses: 0 }, { seed: 1 });
    const head = new DepthHead({ dim: 48, patchSize: 8, imageSize: 32, outChannels: 2 });
    vit.setHead(head);
    // kernel 0, bias = 0..127 (row-major over patch-row, patch-column, channel): every patch shows that pattern.
    head.kernel.assign(tf.zerosLike(head.kernel));
    head.bias.assign(tf.range(0, 128, 1, "float32"));
    tf.tidy(() => {
      const out = vit.forward(randomPixels(2, 32, 3, 3), { format: "NHWC" });
      expect(out.logits).toBeNull();
      expect(out.depth?.shape).toEqual([2, 32, 32, 2]);
      const map = out.depth?.arraySync() as number[][][][];
      for (const [y, x, c] of [
        [0, 0, 0],
        [5, 3, 1],
        [13, 22, 0],
        [31, 31, 1],
      ] as const) {
        expect(map[1]?.[y]?.[x]?.[c]).toBe(((y % 8) * 8 + (x % 8)) * 2 + c);
      }
    });
    vit.dispose();
  });
});

describe("freezing", () => {
  it("a frozen backbone gets no gradients; only the head's variables do", () => {
    const vit = createViT("vit-micro", { seed: 1 });
    vit.setBackboneTrainable(false);
    expect(vit.backboneVariables().every((v) => !v.trainable)).toBe(true);
    expect(vit.trainableVariables()).toEqual(vit.headVariables());
    const pixels = randomPixels(2, 32, 3, 4);
    const { value, grads } = tf.variableGrads(
      () => tf.sum(tf.square(vit.forward(pixels, { format: "NHWC" }).logits as tf.Tensor)) as tf.Scalar,
      [...vit.backboneVariables(), ...vit.headVariables()],
    );
    // tfjs lists the frozen variables of varList with a null gradient.
    const computed = Object.entries(grads).filter(([, grad]) => grad !== null);
    expect(computed.map(([name]) => name).sort()).toEqual(
      vit
        .headVariables()
        .map((v) => v.name)
        .sort(),
    );
    tf.dispose([value, ...computed.map(([, grad]) => grad)]);
    vit.setBackboneTrainable(true);
    expect(vit.trainableVariables()).toHaveLength(vit.backboneVariables().length + 2);
    pixels.dispose();
    vit.dispose();
  });
});
