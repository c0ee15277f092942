import { type BackboneShape, KoraError, validateBackboneShape } from "@kora/spec";
import type { VitErrorCode } from "../errors";
import { VIT_PRESETS, type ViTPresetName } from "./presets";

/** The complete configuration of a {@link ViT}: its shape, LayerNorm epsilon and preprocessing statistics. */
export interface ViTConfig {
  /** Side of the square input image in pixels (a multiple of `patchSize`). */
  imageSize: number;
  /** Side of a square patch in pixels. */
  patchSize: number;
  /** Input channels (3 for RGB, 1 for grayscale). */
  channels: number;
  /** Hidden size D. */
  dim: number;
  /** Number of transformer blocks. */
  depth: number;
  /** Attention heads per block (must divide `dim`). */
  heads: number;
  /** Width of the MLP's hidden layer. */
  mlpDim: number;
  /** Classes of the linear classification head on the CLS token; 0 for no classification head. */
  numClasses: number;
  /**
   * LayerNorm epsilon. Hugging Face ViT checkpoints use `1e-12`, timm's `1e-6`; never tfjs's default `1e-3`.
   * @see https://github.com/huggingface/transformers/blob/main/src/transformers/models/vit/configuration_vit.py
   */
  layerNormEps: number;
  /** Per-channel mean subtracted by {@link preprocessImages} (after rescaling), length `channels`. */
  imageMean: number[];
  /** Per-channel standard deviation divided by {@link preprocessImages}, length `channels`. */
  imageStd: number[];
}

/**
 * What {@link createViT} and {@link resolveViTConfig} accept: a preset name to start from (optional) and any fields
 * that override it. Without a preset, the shape fields (`imageSize`, `patchSize`, `dim`, `depth`, `heads`,
 * `mlpDim`) are required; `channels` defaults to 3, `numClasses` to 0, `layerNormEps` to `1e-12` (Hugging Face),
 * `imageMean`/`imageStd` to 0.5 per channel (Hugging Face `ViTImageProcessor`).
 */
export interface ViTConfigInput extends Partial<ViTConfig> {
  /** A preset to start from; every other field overrides it. */
  preset?: ViTPresetName;
}

const SHAPE_FIELDS = ["imageSize", "patchSize", "dim", "depth", "heads", "mlpDim"] as const;

function invalid(message: string, path?: string): KoraError {
  return new KoraError<VitErrorCode>({
    code: "INVALID_ARGUMENT",
    message,
    ...(path === undefined ? {} : { path }),
  });
}

/**
 * Fills defaults into a {@link ViTConfigInput} (or a preset name) and validates it.
 *
 * @throws KoraError `INVALID_ARGUMENT` naming the field: a missing or non-integer shape field, `heads` not dividing
 * `dim`, `patchSize` not dividing `imageSize`, a non-positive epsilon, mean/std of the wrong length or a zero std.
 */
export function resolveViTConfig(input: ViTConfigInput | ViTPresetName): ViTConfig {
  const source: ViTConfigInput = typeof input === "string" ? { preset: input } : input;
  let base: Partial<ViTConfig> = {};
  if (source.preset !== undefined) {
    const preset = VIT_PRESETS[source.preset];
    if (preset === undefined) {
      throw invalid(
        `config.preset must be one of ${Object.keys(VIT_PRESETS).join(", ")}, got ${String(source.preset)}`,
        "preset",
      );
    }
    base = preset;
  }
  const merged: Partial<ViTConfig> = { ...base };
  for (const [key, value] of Object.entries(source)) {
    if (key !== "preset" && value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  const missing = SHAPE_FIELDS.filter((field) => merged[field] === undefined);
  if (missing.length > 0) {
    throw invalid(`config is missing ${missing.join(", ")} (give them or a preset)`, missing[0]);
  }
  const channels = merged.channels ?? 3;
  const config: ViTConfig = {
    imageSize: merged.imageSize as number,
    patchSize: merged.patchSize as number,
    channels,
    dim: merged.dim as number,
    depth: merged.depth as number,
    heads: merged.heads as number,
    mlpDim: merged.mlpDim as number,
    numClasses: merged.numClasses ?? 0,
    layerNormEps: merged.layerNormEps ?? 1e-12,
    imageMean: merged.imageMean ?? new Array<number>(channels).fill(0.5),
    imageStd: merged.imageStd ?? new Array<number>(channels).fill(0.5),
  };
  validateBackboneShape(toBackboneShape(config), "config");
  if (!(config.layerNormEps > 0) || !Number.isFinite(config.layerNormEps)) {
    throw invalid(
      `config.layerNormEps must be a positive number, got ${config.layerNormEps}`,
      "layerNormEps",
    );
  }
  for (const field of ["imageMean", "imageStd"] as const) {
    const values = config[field];
    if (!Array.isArray(values) || values.length !== channels || values.some((v) => !Number.isFinite(v))) {
      throw invalid(`config.${field} must be ${channels} finite numbers (one per channel)`, field);
    }
  }
  if (config.imageStd.some((v) => v === 0)) throw invalid("config.imageStd must not contain 0", "imageStd");
  return config;
}

/** The `@kora/spec` {@link BackboneShape} of a config (what parameter counts and adapters are computed for). */
export function toBackboneShape(config: ViTConfig): BackboneShape {
  return {
    dim: config.dim,
    depth: config.depth,
    heads: config.heads,
    mlpDim: config.mlpDim,
    numClasses: config.numClasses,
    patchSize: config.patchSize,
    imageSize: config.imageSize,
    channels: config.channels,
  };
}
