// Regressions against the peft reader (decodePeftAdapter): configs that hung it or overflowed the stack.
import { describe, expect, it } from "vitest";
import { deepJson } from "../../../../scripts/fuzz";
import type { AdapterTensor } from "../adapter-file/adapter-file";
import { KoraError } from "../errors";
import { MAX_JSON_DEPTH } from "../json";
import { adapterTensorLayout, shapeSize } from "../params/adapter-tensor-layout";
import type { BackboneShape } from "../params/backbone-shape";
import { parseAdapterSpec } from "../spec/parse-adapter-spec";
import type { LoraSpec } from "../spec/types";
import { decodePeftAdapter, encodePeftAdapter } from "./peft-adapter";
import { fromPeftConfig } from "./peft-config";

const backbone: BackboneShape = {
  dim: 8,
  depth: 2,
  heads: 2,
  mlpDim: 16,
  numClasses: 3,
  patchSize: 4,
  imageSize: 8,
  channels: 3,
};
const spec = parseAdapterSpec({ method: "lora", rank: 2 }) as LoraSpec;
const tensors: Record<string, AdapterTensor> = {};
for (const t of adapterTensorLayout(spec, backbone)) {
  tensors[t.name] = { shape: t.shape, data: new Float32Array(shapeSize(t.shape)).fill(0.5) };
}
const valid = encodePeftAdapter({ spec, backbone, tensors });

function errorOf(fn: () => unknown): KoraError {
  try {
    fn();
  } catch (error) {
    if (KoraError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected a KoraError");
}

function withConfig(edit: (config: Record<string, unknown>) => void): string {
  const config = JSON.parse(valid.configJson) as Record<string, unknown>;
  edit(config);
  return JSON.stringify(config);
}

describe("decodePeftAdapter on hostile input (issue 17)", () => {
  it("reads the valid pair the tests below edit", () => {
    expect(
      decodePeftAdapter({ config: valid.configJson, safetensors: valid.safetensors, backbone }).spec,
    ).toEqual(spec);
  });

  it("a catastrophically backtracking target_modules regex is INVALID_ADAPTER_FILE (it never returned)", () => {
    const config = withConfig((c) => {
      c["target_modules"] = "(.*.*.*.*.*.*.*.*)*x";
    });
    const error = errorOf(() => decodePeftAdapter({ config, safetensors: valid.safetensors, backbone }));
    expect(error.code).toBe("INVALID_ADAPTER_FILE");
    expect(error.path).toBe("target_modules");
  });

  it("a config nested 100 000 levels deep is INVALID_ADAPTER_FILE", () => {
    const config = withConfig((c) => {
      c["extra"] = "DEEP";
    }).replace('"DEEP"', deepJson(100_000));
    const error = errorOf(() => decodePeftAdapter({ config, safetensors: valid.safetensors, backbone }));
    expect(error.code).toBe("INVALID_ADAPTER_FILE");
    expect(error.message).toContain(`nested deeper than ${MAX_JSON_DEPTH}`);
  });

  it("a __proto__ key in the config is INVALID_ADAPTER_FILE naming it", () => {
    const config = valid.configJson.replace('"rank_pattern": {}', '"rank_pattern": {"__proto__": 4}');
    expect(config).not.toBe(valid.configJson);
    const error = errorOf(() => decodePeftAdapter({ config, safetensors: valid.safetensors, backbone }));
    expect(error.code).toBe("INVALID_ADAPTER_FILE");
    expect(error.path).toBe("rank_pattern.__proto__");
  });

  it("a bias of objects with a toString key is INVALID_ADAPTER_FILE naming bias (was 'Cannot convert object to primitive value')", () => {
    // Found by the release fuzz campaign (FUZZ_RUNS=300000 FUZZ_SEED=1669283337): the message turned the value
    // into text with String(), which calls the item's own toString, here 0.
    const config = withConfig((c) => {
      c["bias"] = [{ toString: 0 }];
    });
    const error = errorOf(() => decodePeftAdapter({ config, safetensors: valid.safetensors, backbone }));
    expect(error.code).toBe("INVALID_ADAPTER_FILE");
    expect(error.path).toBe("bias");
    expect(error.message).toContain('[{"toString":0}]');
  });

  it("fromPeftConfig with values JSON cannot show (a BigInt peft_type or bias) is INVALID_ADAPTER_FILE", () => {
    for (const [field, value] of [
      ["peft_type", 1n],
      ["bias", 1n],
    ] as const) {
      const config = { ...(JSON.parse(valid.configJson) as Record<string, unknown>), [field]: value };
      const error = errorOf(() => fromPeftConfig(config, backbone));
      expect(error.code).toBe("INVALID_ADAPTER_FILE");
      expect(error.path).toBe(field);
    }
  });
});
