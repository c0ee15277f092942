import { KoraError } from "@kora/spec";
import { describe, expect, it } from "vitest";
import { parseCheckpointConfig } from "./checkpoint-config";
import { VIT_CONFIG_LIMITS } from "./config-limits";

/** A ViT-B/16 `config.json` as transformers writes it (the fields the limits read). */
const base = {
  model_type: "vit",
  architectures: ["ViTForImageClassification"],
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  image_size: 224,
  patch_size: 16,
  num_channels: 3,
  num_labels: 1000,
};

function errorOf(run: () => unknown): KoraError {
  try {
    run();
  } catch (error) {
    if (KoraError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected a KoraError");
}

describe("parseCheckpointConfig: size limits checked before anything is allocated (issue 17)", () => {
  it("accepts ViT-B/16 and every preset", () => {
    expect(parseCheckpointConfig(base).config).toMatchObject({ depth: 12, dim: 768, numClasses: 1000 });
    expect(parseCheckpointConfig("vit-micro").config.depth).toBeGreaterThan(0);
  });

  it.each([
    ["num_hidden_layers", 1e8, VIT_CONFIG_LIMITS.depth],
    ["hidden_size", 131_072, VIT_CONFIG_LIMITS.dim],
    ["intermediate_size", 1e9, VIT_CONFIG_LIMITS.mlpDim],
    ["num_attention_heads", 2048, VIT_CONFIG_LIMITS.heads],
    ["image_size", 16_384, VIT_CONFIG_LIMITS.imageSize],
    ["num_channels", 1e9, VIT_CONFIG_LIMITS.channels],
    ["num_labels", 1e9, VIT_CONFIG_LIMITS.numClasses],
  ])("HF %s %d: INVALID_CONFIG naming the field and the limit %d", (key, value, limit) => {
    const error = errorOf(() => parseCheckpointConfig({ ...base, [key]: value }));
    expect(error.code).toBe("INVALID_CONFIG");
    expect(error.path).toBe(`config.${key}`);
    expect(error.message).toContain(`config.${key} is ${value}, more than the limit of ${limit}`);
  });

  it("a patch larger than the image, and heads that do not divide dim, are INVALID_CONFIG naming the field", () => {
    const patch = errorOf(() => parseCheckpointConfig({ ...base, image_size: 16, patch_size: 32 }));
    expect({ code: patch.code, path: patch.path }).toEqual({
      code: "INVALID_CONFIG",
      path: "config.patch_size",
    });
    const heads = errorOf(() => parseCheckpointConfig({ ...base, num_attention_heads: 7 }));
    expect({ code: heads.code, path: heads.path }).toEqual({
      code: "INVALID_CONFIG",
      path: "config.num_attention_heads",
    });
  });

  it("each field within its limit but 5e13 parameters in all: INVALID_CONFIG naming the parameter limit", () => {
    const huge = {
      ...base,
      num_hidden_layers: 1000,
      hidden_size: 65_536,
      intermediate_size: 262_144,
      num_attention_heads: 16,
    };
    const error = errorOf(() => parseCheckpointConfig(huge));
    expect(error.code).toBe("INVALID_CONFIG");
    expect(error.message).toMatch(/parameters, more than the limit of 1e\+10/);
  });

  it("timm model_args and a KoRA config with a preset are bounded the same way", () => {
    const timm = errorOf(() =>
      parseCheckpointConfig({ architecture: "vit_base_patch16_224", model_args: { depth: 1e8 } }),
    );
    expect({ code: timm.code, path: timm.path }).toEqual({
      code: "INVALID_CONFIG",
      path: "config.model_args.depth",
    });
    const kora = errorOf(() => parseCheckpointConfig({ preset: "vit-micro", depth: 1e8 }));
    expect({ code: kora.code, path: kora.path }).toEqual({ code: "INVALID_CONFIG", path: "config.depth" });
  });
});
