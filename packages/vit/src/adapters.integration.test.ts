// The adapters of @kora/tfjs on the real ViT (the adapter tests in @kora/tfjs use a tiny backbone of their own,
// because @kora/vit depends on @kora/tfjs and not the reverse).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AdapterSpec, countParameters, parseAdapterSpec } from "@kora/spec";
import {
  adamW,
  applyAdapters,
  crossEntropy,
  mergeAdapters,
  removeAdapters,
  train,
  unmergeAdapters,
} from "@kora/tfjs";
import { loadAdapter, saveAdapter } from "@kora/tfjs/node";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { createViT, type ViT } from "./index";
import { useBackend } from "./test-support/fixtures";

type Batch = { x: tf.Tensor4D; y: tf.Tensor1D };

const SPECS: Record<string, AdapterSpec> = {
  lora: parseAdapterSpec({ method: "lora", rank: 4, targets: ["query", "value", "fc1"] }),
  kora: parseAdapterSpec({ method: "kora", rank: 4, composition: { hidden: 8 } }),
  "kora-attention-channel": parseAdapterSpec({
    method: "kora",
    rank: 4,
    composition: { kind: "attention", hidden: 4 },
    gate: { per: "channel" },
  }),
  "adapter-fusion": parseAdapterSpec({ method: "adapter-fusion", bottleneck: 4 }),
};

function images(seed: number, batch = 4): tf.Tensor4D {
  return tf.randomUniform([batch, 32, 32, 3], -1, 1, "float32", seed) as tf.Tensor4D;
}

function logits(vit: ViT, x: tf.Tensor4D): Float32Array {
  return tf.tidy(() => vit.forward(x, { format: "NHWC" }).logits!.dataSync() as Float32Array);
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  return max;
}

function elementCount(variables: readonly tf.Variable[]): number {
  return variables.reduce((sum, v) => sum + v.size, 0);
}

function snapshot(variables: ReadonlyMap<string, tf.Variable>): Map<string, Float32Array> {
  return new Map([...variables].map(([name, v]) => [name, v.dataSync().slice() as Float32Array]));
}

function batches(seed: number, count: number) {
  return () =>
    (function* () {
      for (let i = 0; i < count; i++) {
        yield {
          x: images(seed + i, 8),
          y: tf.tensor1d(
            Int32Array.from({ length: 8 }, (_, k) => (k + i) % 10),
            "int32",
          ),
        };
      }
    })();
}

beforeAll(async () => {
  await useBackend("wasm");
});

describe("adapters on vit-micro (wasm backend)", () => {
  it.each(Object.keys(SPECS))(
    "%s: trainable variables match countParameters and the model is unchanged at init",
    (key) => {
      const spec = SPECS[key] as AdapterSpec;
      const vit = createViT("vit-micro", { seed: 3 });
      const x = images(1);
      const base = logits(vit, x);
      const before = tf.memory().numTensors;
      const handle = applyAdapters(vit, spec, { name: key, seed: 5 });
      const expected = countParameters(spec, vit.backboneShape);
      expect(elementCount(handle.trainableVariables())).toBe(expected.trainable);
      expect(vit.backboneVariables().every((v) => !v.trainable)).toBe(true);
      const adapted = logits(vit, x);
      expect(maxAbsDiff(adapted, base)).toBeLessThanOrEqual(spec.method === "adapter-fusion" ? 1e-6 : 0);
      removeAdapters(vit);
      expect(tf.memory().numTensors).toBe(before);
      expect(maxAbsDiff(logits(vit, x), base)).toBe(0);
      x.dispose();
      vit.dispose();
    },
  );

  it("KoRA: every parameter group moves within two AdamW steps of the training engine, without leaks", async () => {
    const vit = createViT("vit-micro", { seed: 3 });
    const handle = applyAdapters(vit, SPECS["kora"] as AdapterSpec, { name: "kora", seed: 5 });
    const variables = handle.adapterVariables("kora");
    const start = snapshot(variables);
    const counts: number[] = [];
    await train<Batch>({
      model: (batch) => vit.forward(batch.x, { format: "NHWC", training: true }).logits!,
      variables: handle.trainableVariables(),
      data: batches(10, 2),
      loss: (out, batch) => crossEntropy(out, batch.y),
      optimizer: adamW({ learningRate: 1e-2, weightDecay: 0.01 }),
      steps: 2,
      seed: 1,
      onStep: () => {
        counts.push(tf.memory().numTensors);
      },
    });
    const groups = new Map<string, boolean>();
    for (const [name, v] of variables) {
      const group = /lora_A/.test(name)
        ? "A"
        : /lora_B/.test(name)
          ? "B"
          : /gate/.test(name)
            ? "gate"
            : "composition";
      const moved = maxAbsDiff(v.dataSync() as Float32Array, start.get(name) as Float32Array) > 0;
      groups.set(group, (groups.get(group) ?? true) && moved);
    }
    expect(Object.fromEntries(groups)).toEqual({ A: true, B: true, composition: true, gate: true });
    expect(counts[1]).toBe(counts[0]);
    vit.dispose();
  });

  it("LoRA merge and unmerge keep the outputs to 1e-5 after training", async () => {
    const vit = createViT("vit-micro", { seed: 4 });
    const handle = applyAdapters(vit, SPECS["lora"] as AdapterSpec, { name: "lora" });
    await train<Batch>({
      model: (batch) => vit.forward(batch.x, { format: "NHWC", training: true }).logits!,
      variables: handle.trainableVariables(),
      data: batches(20, 3),
      loss: (out, batch) => crossEntropy(out, batch.y),
      optimizer: adamW({ learningRate: 1e-2 }),
      steps: 3,
      seed: 2,
    });
    const x = images(7);
    const adapted = logits(vit, x);
    mergeAdapters(vit);
    expect(maxAbsDiff(logits(vit, x), adapted)).toBeLessThan(1e-5);
    unmergeAdapters(vit);
    expect(maxAbsDiff(logits(vit, x), adapted)).toBeLessThan(1e-5);
    vit.dispose();
  });

  it("saveAdapter → loadAdapter onto a fresh copy of the backbone reproduces the adapted outputs exactly", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kora-vit-adapter-"));
    try {
      const vit = createViT("vit-micro", { seed: 6 });
      const handle = applyAdapters(vit, SPECS["kora-attention-channel"] as AdapterSpec, { name: "k" });
      await train<Batch>({
        model: (batch) => vit.forward(batch.x, { format: "NHWC", training: true }).logits!,
        variables: handle.trainableVariables(),
        data: batches(30, 2),
        loss: (out, batch) => crossEntropy(out, batch.y),
        optimizer: adamW({ learningRate: 1e-2 }),
        steps: 2,
        seed: 3,
      });
      const x = images(8);
      const adapted = logits(vit, x);
      await saveAdapter(vit, dir, { includeHead: true });
      const fresh = createViT("vit-micro", { seed: 6 });
      await loadAdapter(fresh, dir);
      expect(maxAbsDiff(logits(fresh, x), adapted)).toBe(0);
      await expect(loadAdapter(createViT("vit-micro-28", { seed: 6 }), dir)).rejects.toMatchObject({
        code: "SHAPE_MISMATCH",
      });
      vit.dispose();
      fresh.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
