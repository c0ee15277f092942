import { KoraError } from "@kora/spec";
import { VIT_PRESETS, type ViTPresetName } from "../config/presets";
import { resolveViTConfig, type ViTConfig, type ViTConfigInput } from "../config/vit-config";
import type { VitErrorCode } from "../errors";
import { type ConfigShape, checkConfigLimits } from "./config-limits";

/** Where a checkpoint's config came from. */
export type CheckpointSource = "hf" | "timm" | "kora";

/** A checkpoint config read by {@link parseCheckpointConfig}. */
export interface CheckpointConfig {
  /** `"hf"` (transformers `config.json`), `"timm"` (timm/hub `config.json`) or `"kora"` (a {@link ViTConfigInput}). */
  source: CheckpointSource;
  /** The resolved ViT configuration. */
  config: ViTConfig;
  /** Whether the config states the number of classes; when false, the classifier in the weights (if any) decides. */
  numClassesStated: boolean;
}

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function fail(message: string, path?: string): never {
  throw new KoraError<VitErrorCode>({
    code: "INVALID_CONFIG",
    message,
    ...(path === undefined ? {} : { path }),
  });
}

function integer(json: Json, key: string, fallback: number, label: string): number {
  const value = json[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    fail(`${label}.${key} must be a non-negative integer, got ${JSON.stringify(value)}`, key);
  }
  return value;
}

function numbers(value: unknown, label: string): number[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "number") return [value];
  if (!Array.isArray(value) || value.some((v) => typeof v !== "number"))
    fail(`${label} must be a list of numbers`);
  return value as number[];
}

function perChannel(values: number[] | undefined, channels: number): number[] | undefined {
  if (values === undefined) return undefined;
  return values.length === 1 && channels > 1 ? new Array<number>(channels).fill(values[0] as number) : values;
}

const HF_NAMES: Record<keyof ConfigShape, string> = {
  imageSize: "config.image_size",
  patchSize: "config.patch_size",
  channels: "config.num_channels",
  dim: "config.hidden_size",
  depth: "config.num_hidden_layers",
  heads: "config.num_attention_heads",
  mlpDim: "config.intermediate_size",
  numClasses: "config.num_labels",
};

const TIMM_NAMES: Record<keyof ConfigShape, string> = {
  imageSize: "config.model_args.img_size",
  patchSize: "config.model_args.patch_size",
  channels: "config.model_args.in_chans",
  dim: "config.model_args.embed_dim",
  depth: "config.model_args.depth",
  heads: "config.model_args.num_heads",
  mlpDim: "config.model_args.mlp_ratio",
  numClasses: "config.num_classes",
};

const KORA_NAMES: Record<keyof ConfigShape, string> = {
  imageSize: "config.imageSize",
  patchSize: "config.patchSize",
  channels: "config.channels",
  dim: "config.dim",
  depth: "config.depth",
  heads: "config.heads",
  mlpDim: "config.mlpDim",
  numClasses: "config.numClasses",
};

/** Hugging Face transformers `ViTConfig` (`config.json`) → {@link CheckpointConfig}. Missing fields take HF defaults. */
function fromHf(json: Json): CheckpointConfig {
  const label = "config";
  if (json["model_type"] !== undefined && json["model_type"] !== "vit") {
    fail(`config.model_type must be "vit", got ${JSON.stringify(json["model_type"])}`, "model_type");
  }
  const act = json["hidden_act"] ?? "gelu";
  if (act !== "gelu")
    fail(`config.hidden_act must be "gelu" (exact erf GELU), got ${JSON.stringify(act)}`, "hidden_act");
  if (json["qkv_bias"] === false)
    fail("config.qkv_bias = false is not supported (q/k/v carry biases)", "qkv_bias");
  const architectures = Array.isArray(json["architectures"]) ? (json["architectures"] as unknown[]) : null;
  const id2label = isRecord(json["id2label"]) ? Object.keys(json["id2label"]).length : undefined;
  const numLabels = typeof json["num_labels"] === "number" ? (json["num_labels"] as number) : undefined;
  const labels = id2label ?? numLabels;
  // A bare ViTModel has no classifier even when its config carries (default) labels.
  const bare = architectures !== null && !architectures.includes("ViTForImageClassification");
  const numClassesStated = bare || labels !== undefined;
  const channels = integer(json, "num_channels", 3, label);
  const shape: ConfigShape = {
    imageSize: integer(json, "image_size", 224, label),
    patchSize: integer(json, "patch_size", 16, label),
    channels,
    dim: integer(json, "hidden_size", 768, label),
    depth: integer(json, "num_hidden_layers", 12, label),
    heads: integer(json, "num_attention_heads", 12, label),
    mlpDim: integer(json, "intermediate_size", 3072, label),
    numClasses: bare ? 0 : (labels ?? 0),
  };
  // Before the per-channel arrays and the model: a num_hidden_layers of 1e8 used to exhaust the heap.
  checkConfigLimits(shape, HF_NAMES);
  const mean = perChannel(numbers(json["image_mean"], "config.image_mean"), channels);
  const std = perChannel(numbers(json["image_std"], "config.image_std"), channels);
  const eps = json["layer_norm_eps"] ?? 1e-12;
  if (typeof eps !== "number") fail("config.layer_norm_eps must be a number", "layer_norm_eps");
  const input: ViTConfigInput = {
    ...shape,
    layerNormEps: eps,
    ...(mean === undefined ? {} : { imageMean: mean }),
    ...(std === undefined ? {} : { imageStd: std }),
  };
  return { source: "hf", config: resolveViTConfig(input), numClassesStated };
}

const TIMM_SIZES: Record<string, { dim: number; depth: number; heads: number }> = {
  tiny: { dim: 192, depth: 12, heads: 3 },
  small: { dim: 384, depth: 12, heads: 6 },
  base: { dim: 768, depth: 12, heads: 12 },
  large: { dim: 1024, depth: 24, heads: 16 },
  huge: { dim: 1280, depth: 32, heads: 16 },
};

const TIMM_NAME = /^vit_(tiny|small|base|large|huge)_patch(\d+)_(\d+)(?:[_.].*)?$/;

/** timm / Hugging Face hub `config.json` of a timm `vit_*` model → {@link CheckpointConfig}. */
function fromTimm(json: Json): CheckpointConfig {
  const architecture = json["architecture"];
  if (typeof architecture !== "string") fail("config.architecture must be a string", "architecture");
  const args = isRecord(json["model_args"]) ? json["model_args"] : {};
  const pretrained = isRecord(json["pretrained_cfg"]) ? json["pretrained_cfg"] : {};
  const named = TIMM_NAME.exec(architecture);
  const size = named === null ? undefined : TIMM_SIZES[named[1] as string];
  if (!architecture.startsWith("vit_"))
    fail(`config.architecture must be a timm vit_* model, got "${architecture}"`, "architecture");
  const unsupported: string[] = [];
  if (args["class_token"] === false) unsupported.push("class_token=false");
  if (args["no_embed_class"] === true) unsupported.push("no_embed_class=true");
  if (args["pre_norm"] === true) unsupported.push("pre_norm=true");
  if (typeof args["reg_tokens"] === "number" && args["reg_tokens"] > 0) unsupported.push("reg_tokens>0");
  if (args["qkv_bias"] === false) unsupported.push("qkv_bias=false");
  if (args["fc_norm"] === true) unsupported.push("fc_norm=true");
  if (typeof args["init_values"] === "number") unsupported.push("init_values (LayerScale)");
  const pool = args["global_pool"] ?? json["global_pool"];
  if (pool !== undefined && pool !== "token") unsupported.push(`global_pool=${JSON.stringify(pool)}`);
  if (unsupported.length > 0) {
    fail(`config: timm options not supported by @kora/vit: ${unsupported.join(", ")}`, "model_args");
  }
  const inputSize = numbers(pretrained["input_size"], "config.pretrained_cfg.input_size");
  const imageSizeArg = numbers(args["img_size"], "config.model_args.img_size");
  const channels =
    args["in_chans"] === undefined
      ? (inputSize?.[0] ?? 3)
      : integer(args, "in_chans", 3, "config.model_args");
  const imageSize = imageSizeArg?.[0] ?? inputSize?.[1] ?? (named === null ? undefined : Number(named[3]));
  const patchSize = integer(
    args,
    "patch_size",
    named === null ? Number.NaN : Number(named[2]),
    "config.model_args",
  );
  const dim = integer(args, "embed_dim", size?.dim ?? Number.NaN, "config.model_args");
  const depth = integer(args, "depth", size?.depth ?? Number.NaN, "config.model_args");
  const heads = integer(args, "num_heads", size?.heads ?? Number.NaN, "config.model_args");
  const ratio = args["mlp_ratio"] ?? 4;
  if (typeof ratio !== "number") fail("config.model_args.mlp_ratio must be a number", "model_args.mlp_ratio");
  const missing = Object.entries({ imageSize, patchSize, dim, depth, heads })
    .filter(([, value]) => value === undefined || Number.isNaN(value))
    .map(([key]) => key);
  if (missing.length > 0) {
    fail(
      `config: cannot tell ${missing.join(", ")} of timm architecture "${architecture}"; give model_args (img_size, patch_size, embed_dim, depth, num_heads)`,
      "model_args",
    );
  }
  const numClasses = json["num_classes"] ?? args["num_classes"];
  if (numClasses !== undefined && (typeof numClasses !== "number" || !Number.isSafeInteger(numClasses))) {
    fail("config.num_classes must be an integer", "num_classes");
  }
  const mlpDim = Math.round(dim * ratio);
  checkConfigLimits(
    {
      imageSize: imageSize as number,
      patchSize,
      channels,
      dim,
      depth,
      heads,
      mlpDim,
      numClasses: (numClasses as number | undefined) ?? 1000,
    },
    TIMM_NAMES,
  );
  const mean = perChannel(numbers(pretrained["mean"], "config.pretrained_cfg.mean"), channels);
  const std = perChannel(numbers(pretrained["std"], "config.pretrained_cfg.std"), channels);
  const input: ViTConfigInput = {
    imageSize: imageSize as number,
    patchSize,
    channels,
    dim,
    depth,
    heads,
    mlpDim,
    numClasses: (numClasses as number | undefined) ?? 1000,
    layerNormEps: 1e-6,
    ...(mean === undefined ? {} : { imageMean: mean }),
    ...(std === undefined ? {} : { imageStd: std }),
  };
  return { source: "timm", config: resolveViTConfig(input), numClassesStated: true };
}

function definedFields(input: Json): Json {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined));
}

/**
 * Reads a checkpoint's config: a Hugging Face transformers `config.json` (recognised by `model_type`,
 * `hidden_size` or `architectures`; HF defaults for missing fields, LayerNorm epsilon `layer_norm_eps`, default
 * `1e-12`), a timm `config.json` (recognised by `architecture`: `num_classes`, `pretrained_cfg.input_size` /
 * `mean` / `std`, `model_args`; a known name such as `vit_base_patch16_224` implies the shape; epsilon `1e-6`),
 * or a {@link ViTConfigInput} / preset name.
 *
 * @throws KoraError `INVALID_CONFIG` naming the field (unsupported activation or timm option, wrong types, a size
 * above {@link VIT_CONFIG_LIMITS}, checked before anything is allocated),
 * `INVALID_ARGUMENT` from {@link resolveViTConfig}.
 */
export function parseCheckpointConfig(input: unknown): CheckpointConfig {
  if (typeof input === "string") {
    return {
      source: "kora",
      config: resolveViTConfig({ preset: input as ViTPresetName }),
      numClassesStated: true,
    };
  }
  if (!isRecord(input)) fail("config must be a JSON object (HF or timm config.json) or a ViT config");
  if (typeof input["architecture"] === "string") return fromTimm(input);
  if ("model_type" in input || "hidden_size" in input || "architectures" in input) return fromHf(input);
  const kora = input as ViTConfigInput;
  const preset =
    typeof kora.preset === "string" && Object.hasOwn(VIT_PRESETS, kora.preset)
      ? VIT_PRESETS[kora.preset]
      : {};
  const merged = { channels: 3, numClasses: 0, ...preset, ...definedFields(input) } as Record<
    string,
    unknown
  >;
  const shape = Object.fromEntries(Object.keys(KORA_NAMES).map((key) => [key, merged[key]]));
  // Only a complete numeric shape is bounded here; a missing or mistyped field is resolveViTConfig's to name.
  if (Object.keys(KORA_NAMES).every((key) => typeof shape[key] === "number")) {
    checkConfigLimits(shape as unknown as ConfigShape, KORA_NAMES);
  }
  return {
    source: "kora",
    config: resolveViTConfig(kora),
    numClassesStated: kora.numClasses !== undefined || kora.preset !== undefined,
  };
}

/**
 * The Hugging Face transformers `config.json` of a config (`ViTForImageClassification` when it has classes,
 * `ViTModel` otherwise), plus `image_mean` / `image_std` so preprocessing survives a save/load round trip.
 */
export function toHfConfig(config: ViTConfig): Record<string, unknown> {
  const labels = Array.from({ length: config.numClasses }, (_, i) => i);
  return {
    model_type: "vit",
    architectures: [config.numClasses > 0 ? "ViTForImageClassification" : "ViTModel"],
    hidden_size: config.dim,
    num_hidden_layers: config.depth,
    num_attention_heads: config.heads,
    intermediate_size: config.mlpDim,
    hidden_act: "gelu",
    image_size: config.imageSize,
    patch_size: config.patchSize,
    num_channels: config.channels,
    layer_norm_eps: config.layerNormEps,
    qkv_bias: true,
    hidden_dropout_prob: 0,
    attention_probs_dropout_prob: 0,
    image_mean: config.imageMean,
    image_std: config.imageStd,
    ...(config.numClasses > 0
      ? {
          id2label: Object.fromEntries(labels.map((i) => [String(i), `LABEL_${i}`])),
          label2id: Object.fromEntries(labels.map((i) => [`LABEL_${i}`, i])),
        }
      : {}),
  };
}
