import { describe, expect, it } from "vitest";
import { readFixture } from "../../../../fixtures/fixtures";
import type { AdapterTensor } from "../adapter-file/adapter-file";
import { KoraError } from "../errors";
import { hfModulePath, parseHfModulePath } from "../naming/hf-vit";
import { adapterTensorLayout, shapeSize } from "../params/adapter-tensor-layout";
import type { BackboneShape } from "../params/backbone-shape";
import { readSafetensors } from "../safetensors";
import { parseAdapterSpec } from "../spec/parse-adapter-spec";
import { type LoraSpec, TARGET_MODULES } from "../spec/types";
import { decodePeftAdapter, encodePeftAdapter } from "./peft-adapter";
import { fromPeftConfig, toPeftConfig } from "./peft-config";
import { fromPeftTensorNames, peftTensorName, toPeftTensorNames } from "./peft-tensors";

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

function tensorsFor(spec: LoraSpec, backbone: BackboneShape, seed = 1): Record<string, AdapterTensor> {
  let state = seed;
  const out: Record<string, AdapterTensor> = {};
  for (const t of adapterTensorLayout(spec, backbone)) {
    const data = new Float32Array(shapeSize(t.shape));
    for (let i = 0; i < data.length; i++) {
      state = (state * 1103515245 + 12345) % 2147483648;
      data[i] = state / 2147483648 - 0.5;
    }
    out[t.name] = { shape: t.shape, data };
  }
  return out;
}

describe("HF ViT module naming", () => {
  it("maps every target to the transformers module path and back", () => {
    expect(hfModulePath(0, "query")).toBe("vit.encoder.layer.0.attention.attention.query");
    expect(hfModulePath(2, "output")).toBe("vit.encoder.layer.2.attention.output.dense");
    expect(hfModulePath(2, "fc1")).toBe("vit.encoder.layer.2.intermediate.dense");
    expect(hfModulePath(11, "fc2", { prefix: "" })).toBe("encoder.layer.11.output.dense");
    for (const target of TARGET_MODULES) {
      expect(parseHfModulePath(hfModulePath(7, target))).toEqual({ layer: 7, target });
    }
    expect(parseHfModulePath("vit.encoder.layer.1.layernorm_before")).toBeNull();
  });

  it("names module paths that exist in the real HF checkpoint", () => {
    const { tensors } = readSafetensors(readFixture("vit", "vit-micro-hf.safetensors"));
    for (let layer = 0; layer < 3; layer++) {
      for (const target of TARGET_MODULES) {
        const weight = tensors[`${hfModulePath(layer, target)}.weight`];
        expect(weight?.shape).toEqual(target === "fc1" ? [192, 48] : target === "fc2" ? [48, 192] : [48, 48]);
      }
    }
  });
});

describe("peft config", () => {
  it("writes peft's list form for attention targets and reads it back", () => {
    const spec = parseAdapterSpec({ method: "lora", rank: 16, alpha: 16, dropout: 0.1 }) as LoraSpec;
    const config = toPeftConfig(spec, micro, { baseModel: "google/vit-base-patch16-224-in21k" });
    expect(config).toMatchObject({
      peft_type: "LORA",
      r: 16,
      lora_alpha: 16,
      lora_dropout: 0.1,
      target_modules: ["query", "value"],
      modules_to_save: ["classifier"],
      base_model_name_or_path: "google/vit-base-patch16-224-in21k",
      use_rslora: false,
      init_lora_weights: true,
    });
    expect(fromPeftConfig(config, micro)).toEqual(spec);
  });

  it("uses a full-match regex when fc2/output or a layer subset is targeted, and it selects exactly them", () => {
    const spec = parseAdapterSpec({ method: "lora", targets: ["output", "fc2"], layers: [1] }) as LoraSpec;
    const config = toPeftConfig(spec, micro);
    expect(typeof config.target_modules).toBe("string");
    const regex = new RegExp(`^(?:${config.target_modules as string})$`);
    const selected: string[] = [];
    for (let layer = 0; layer < 3; layer++) {
      for (const target of TARGET_MODULES) {
        if (regex.test(hfModulePath(layer, target))) selected.push(`${layer}.${target}`);
      }
    }
    expect(selected).toEqual(["1.output", "1.fc2"]);
    expect(fromPeftConfig(config, micro)).toEqual(spec);
  });

  it("resolves peft's suffix semantics: 'output.dense' selects both the attention output and fc2", () => {
    const spec = fromPeftConfig(
      {
        peft_type: "LORA",
        r: 4,
        lora_alpha: 8,
        target_modules: ["query", "output.dense"],
        layers_to_transform: [0, 2],
      },
      micro,
    );
    expect(spec.targets).toEqual(["query", "output", "fc2"]);
    expect(spec.layers).toEqual([0, 2]);
    expect(spec.rank).toBe(4);
  });

  it.each([
    [{ peft_type: "IA3", r: 8 }, /peft_type/],
    [
      { peft_type: "LORA", r: 8, lora_alpha: 8, target_modules: ["query"], rank_pattern: { query: 4 } },
      /rank_pattern/,
    ],
    [{ peft_type: "LORA", r: 8, lora_alpha: 8, target_modules: ["query"], use_dora: true }, /DoRA/],
    [{ peft_type: "LORA", r: 8, lora_alpha: 8, target_modules: ["classifier"] }, /selects no/],
    [
      {
        peft_type: "LORA",
        r: 8,
        lora_alpha: 8,
        target_modules: ".*layer\\.0\\.attention\\.attention\\.query|.*layer\\.1\\..*value",
      },
      /same targets/,
    ],
  ])("rejects unsupported peft configs (%#)", (config, message) => {
    expect(() => fromPeftConfig(config, micro)).toThrow(message);
  });
});

describe("peft tensors and folders", () => {
  it("names tensors as peft saves them", () => {
    expect(peftTensorName(0, "query", "A")).toBe(
      "base_model.model.vit.encoder.layer.0.attention.attention.query.lora_A.weight",
    );
    const names = Object.keys(toPeftTensorNames({ "layers.2.fc1.lora_B": 0, "head.bias": 0 }));
    expect(names).toEqual([
      "base_model.model.vit.encoder.layer.2.intermediate.dense.lora_B.weight",
      "base_model.model.classifier.bias",
    ]);
    expect(
      Object.keys(
        fromPeftTensorNames({
          "base_model.model.vit.encoder.layer.1.attention.attention.value.lora_A.default.weight": 0,
          "base_model.model.classifier.modules_to_save.default.weight": 0,
        }),
      ),
    ).toEqual(["layers.1.value.lora_A", "head.weight"]);
    expect(() => toPeftTensorNames({ "layers.0.kora.gate": 0 })).toThrow(/no peft LoRA equivalent/);
  });

  it("round-trips a LoRA adapter through peft files with identical values and shapes", () => {
    const spec = parseAdapterSpec({
      method: "lora",
      rank: 4,
      targets: ["query", "value", "fc1"],
    }) as LoraSpec;
    const tensors = tensorsFor(spec, micro);
    const encoded = encodePeftAdapter({ spec, backbone: micro, tensors });
    const file = readSafetensors(encoded.safetensors);
    expect(
      file.tensors["base_model.model.vit.encoder.layer.0.intermediate.dense.lora_B.weight"]?.shape,
    ).toEqual([192, 4]);
    expect(
      file.tensors["base_model.model.vit.encoder.layer.0.attention.attention.query.lora_A.weight"]?.shape,
    ).toEqual([4, 48]);
    const decoded = decodePeftAdapter({
      config: encoded.configJson,
      safetensors: encoded.safetensors,
      backbone: micro,
    });
    expect(decoded.spec).toEqual(spec);
    expect(Object.keys(decoded.tensors).sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, tensor] of Object.entries(tensors)) {
      expect(decoded.tensors[name]?.data).toEqual(tensor.data);
    }
  });

  it("refuses to export KoRA to peft with a clear error", () => {
    const spec = parseAdapterSpec({ method: "kora" });
    try {
      encodePeftAdapter({ spec: spec as unknown as LoraSpec, backbone: micro, tensors: {} });
      expect.unreachable();
    } catch (error) {
      expect(KoraError.isInstance(error) && error.code).toBe("INVALID_SPEC");
      expect((error as Error).message).toMatch(/only LoRA adapters export to peft/);
    }
  });
});
