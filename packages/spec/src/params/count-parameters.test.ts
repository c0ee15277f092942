import { describe, expect, it } from "vitest";
import { readFixture } from "../../../../fixtures/fixtures";
import { KoraError } from "../errors";
import { readSafetensors } from "../safetensors";
import { parseAdapterSpec } from "../spec/parse-adapter-spec";
import { adapterTensorLayout, shapeSize } from "./adapter-tensor-layout";
import { type BackboneShape, backboneParameterCount } from "./backbone-shape";
import { countParameters } from "./count-parameters";

const vitBase = (numClasses: number): BackboneShape => ({
  dim: 768,
  depth: 12,
  heads: 12,
  mlpDim: 3072,
  numClasses,
  patchSize: 16,
  imageSize: 224,
  channels: 3,
});
const vitTiny32: BackboneShape = {
  dim: 192,
  depth: 12,
  heads: 3,
  mlpDim: 768,
  numClasses: 100,
  patchSize: 4,
  imageSize: 32,
  channels: 3,
};
const micro: BackboneShape = {
  dim: 48,
  depth: 3,
  heads: 3,
  mlpDim: 192,
  numClasses: 10,
  patchSize: 8,
  imageSize: 32,
  channels: 3,
};

describe("countParameters: external numbers", () => {
  it("reproduces peft's image-classification guide (ViT-B/16 in21k, LoRA r=16 on query+value, 101 classes)", () => {
    const spec = parseAdapterSpec({ method: "lora", rank: 16, alpha: 16, targets: ["query", "value"] });
    const count = countParameters(spec, vitBase(101));
    expect(count.trainable).toBe(667_493);
    expect(count.total).toBe(86_466_149);
    // peft's "all params" counts modules_to_save's second copy of the head.
    expect(count.total + count.head).toBe(86_543_818);
    expect(count.trainableFraction * 100).toBeCloseTo(0.772, 3);
  });

  it("ViT-B/16 with a 1000-class head has 86,567,656 parameters (timm/HF vit-base-patch16-224)", () => {
    const count = countParameters(null, vitBase(1000));
    expect(count.total).toBe(86_567_656);
    expect(count.head).toBe(769_000);
    expect(count.adapter).toBe(0);
    expect(count.trainable).toBe(769_000);
    expect(countParameters(null, vitBase(1000), { trainBackbone: true }).trainable).toBe(86_567_656);
    expect(countParameters(null, vitBase(1000), { trainHead: false }).trainable).toBe(0);
  });

  it("matches the element count of the real HF vit-micro checkpoint in fixtures/vit", () => {
    const { tensors } = readSafetensors(readFixture("vit", "vit-micro-hf.safetensors"));
    let backbone = 0;
    let head = 0;
    for (const [name, tensor] of Object.entries(tensors)) {
      if (name.startsWith("classifier.")) head += shapeSize(tensor.shape);
      else backbone += shapeSize(tensor.shape);
    }
    expect(backboneParameterCount(micro)).toBe(backbone);
    expect(countParameters(null, micro).head).toBe(head);
  });
});

describe("countParameters: every method against hand-written formulas", () => {
  const D = vitTiny32.dim;
  const M = vitTiny32.mlpDim;
  const L = vitTiny32.depth;
  const head = D * 100 + 100;

  it("LoRA on all six targets with a layer subset", () => {
    const spec = parseAdapterSpec({
      method: "lora",
      rank: 4,
      targets: ["query", "key", "value", "output", "fc1", "fc2"],
      layers: [0, 11],
    });
    const perBlock = 4 * 4 * (D + D) + 4 * (D + M) + 4 * (M + D);
    const count = countParameters(spec, vitTiny32);
    expect(count.adapter).toBe(2 * perBlock);
    expect(count.perLayer[0]).toBe(perBlock);
    expect(count.perLayer[5]).toBe(0);
    expect(count.perLayer[11]).toBe(perBlock);
    expect(count.trainable).toBe(2 * perBlock + head);
  });

  it("KoRA mlp composition, scalar gate; apply=qkv adds no parameters", () => {
    const r = 8;
    const h = 4;
    const perBlock = 3 * r * 2 * D + (h * 3 * D + h) + (D * h + D) + 1;
    const value = countParameters(
      parseAdapterSpec({ method: "kora", rank: r, composition: { hidden: h } }),
      vitTiny32,
    );
    const qkv = countParameters(parseAdapterSpec({ method: "kora", rank: r, apply: "qkv" }), vitTiny32);
    expect(value.adapter).toBe(L * perBlock);
    expect(qkv.adapter).toBe(value.adapter);
    expect(value.trainable).toBe(L * perBlock + head);
  });

  it("KoRA channel gate, no composition bias, attention composition, fixed and absent gates", () => {
    const r = 8;
    const h = 8;
    const lora = 3 * r * 2 * D;
    const channel = countParameters(
      parseAdapterSpec({ method: "kora", composition: { hidden: h, bias: false }, gate: { per: "channel" } }),
      vitTiny32,
    );
    expect(channel.adapter).toBe(L * (lora + h * 3 * D + D * h + D));
    const attention = countParameters(
      parseAdapterSpec({ method: "kora", composition: { kind: "attention", hidden: h } }),
      vitTiny32,
    );
    expect(attention.adapter).toBe(L * (lora + 3 * (h * D + h) + (D * h + D) + 1));
    const fixed = countParameters(
      parseAdapterSpec({ method: "kora", gate: { mode: "fixed", init: 1 } }),
      vitTiny32,
    );
    const none = countParameters(parseAdapterSpec({ method: "kora", gate: { mode: "none" } }), vitTiny32);
    const learnable = countParameters(parseAdapterSpec({ method: "kora" }), vitTiny32);
    expect(fixed.adapter).toBe(learnable.adapter - L);
    expect(none.adapter).toBe(fixed.adapter);
  });

  it("AdapterFusion static and dynamic, single- and two-stage", () => {
    const b = Math.floor(D / 64);
    const a = 8;
    const adapters = 2 * (b * D + b + D * b + D);
    const staticFusion = 2 * (a * D + a);
    const single = countParameters(parseAdapterSpec({ method: "adapter-fusion" }), vitTiny32);
    expect(single.adapter).toBe(L * (adapters + staticFusion));
    expect(single.trainable).toBe(single.adapter + head);
    const twoStage = countParameters(
      parseAdapterSpec({ method: "adapter-fusion", training: "two-stage" }),
      vitTiny32,
    );
    expect(twoStage.adapter).toBe(single.adapter);
    expect(twoStage.trainable).toBe(L * staticFusion + head);
    const dynamic = countParameters(
      parseAdapterSpec({
        method: "adapter-fusion",
        fusion: { variant: "dynamic", attentionDim: null },
        bottleneck: 16,
      }),
      vitTiny32,
    );
    expect(dynamic.adapter).toBe(L * (2 * (16 * D + 16 + D * 16 + D) + 3 * (D * D + D)));
  });

  it("AdapterFusion defaults keep its trainable share near LoRA r=8's", () => {
    for (const shape of [vitTiny32, vitBase(100)]) {
      const lora = countParameters(parseAdapterSpec({ method: "lora" }), shape).adapter;
      const fusion = countParameters(parseAdapterSpec({ method: "adapter-fusion" }), shape).adapter;
      expect(fusion / lora).toBeGreaterThan(0.5);
      expect(fusion / lora).toBeLessThan(2.5);
    }
  });

  it("perLayer sums to adapter and the layout agrees with the count for every method", () => {
    for (const input of [{ method: "lora" }, { method: "kora" }, { method: "adapter-fusion" }]) {
      const spec = parseAdapterSpec(input);
      const count = countParameters(spec, micro);
      expect(count.perLayer.reduce((s, v) => s + v, 0)).toBe(count.adapter);
      const layout = adapterTensorLayout(spec, micro);
      expect(layout.reduce((s, t) => s + shapeSize(t.shape), 0)).toBe(count.adapter + count.head);
      expect(new Set(layout.map((t) => t.name)).size).toBe(layout.length);
    }
  });
});

describe("countParameters: errors", () => {
  it("rejects layers beyond the backbone depth, naming the index", () => {
    const spec = parseAdapterSpec({ method: "lora", layers: [1, 3] });
    try {
      countParameters(spec, micro);
      expect.unreachable();
    } catch (error) {
      expect(KoraError.isInstance(error) && error.code).toBe("INVALID_SPEC");
      expect((error as KoraError).path).toBe("layers[1]");
      expect((error as Error).message).toMatch(/block 3 does not exist in a backbone of depth 3/);
    }
  });

  it.each([
    [{ ...micro, heads: 5 }, "heads"],
    [{ ...micro, patchSize: 5 }, "patchSize"],
    [{ ...micro, dim: 0 }, "dim"],
    [{ ...micro, depth: 1.5 }, "depth"],
  ])("rejects a malformed backbone (%j)", (shape, path) => {
    try {
      countParameters(null, shape);
      expect.unreachable();
    } catch (error) {
      expect(KoraError.isInstance(error) && error.code).toBe("INVALID_ARGUMENT");
      expect((error as KoraError).path).toBe(path);
    }
  });
});
