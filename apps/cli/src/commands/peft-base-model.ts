import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { type BackboneShape, KoraError } from "@kora/spec";
import { parseCheckpointConfig, toBackboneShape } from "@kora/vit";
import { readJson } from "../support/files";

/** The architecture fields an exported adapter must share with its base model. */
type Architecture = Pick<BackboneShape, "dim" | "depth" | "heads" | "mlpDim" | "patchSize">;

const VIT_B = { dim: 768, depth: 12, heads: 12, mlpDim: 3072 };
const VIT_L = { dim: 1024, depth: 24, heads: 16, mlpDim: 4096 };

/**
 * Shapes of common Hugging Face ViT checkpoints, from their config.json, so `--base-model NAME` can be checked
 * without downloading anything. Others need `--base-config` (or a local folder holding config.json).
 */
export const KNOWN_BASE_MODELS: Readonly<Record<string, Architecture>> = {
  "google/vit-base-patch16-224-in21k": { ...VIT_B, patchSize: 16 },
  "google/vit-base-patch16-224": { ...VIT_B, patchSize: 16 },
  "google/vit-base-patch16-384": { ...VIT_B, patchSize: 16 },
  "google/vit-base-patch32-224-in21k": { ...VIT_B, patchSize: 32 },
  "google/vit-base-patch32-384": { ...VIT_B, patchSize: 32 },
  "google/vit-large-patch16-224-in21k": { ...VIT_L, patchSize: 16 },
  "google/vit-large-patch16-224": { ...VIT_L, patchSize: 16 },
  "google/vit-large-patch32-224-in21k": { ...VIT_L, patchSize: 32 },
  "google/vit-huge-patch14-224-in21k": { dim: 1280, depth: 32, heads: 16, mlpDim: 5120, patchSize: 14 },
  "facebook/deit-tiny-patch16-224": { dim: 192, depth: 12, heads: 3, mlpDim: 768, patchSize: 16 },
  "facebook/deit-small-patch16-224": { dim: 384, depth: 12, heads: 6, mlpDim: 1536, patchSize: 16 },
  "facebook/deit-base-patch16-224": { ...VIT_B, patchSize: 16 },
  "WinKawaks/vit-tiny-patch16-224": { dim: 192, depth: 12, heads: 3, mlpDim: 768, patchSize: 16 },
  "WinKawaks/vit-small-patch16-224": { dim: 384, depth: 12, heads: 6, mlpDim: 1536, patchSize: 16 },
};

function describe(shape: Architecture): string {
  return `dim ${shape.dim}, depth ${shape.depth}, heads ${shape.heads}, mlp ${shape.mlpDim}, patch ${shape.patchSize}`;
}

async function fromConfig(path: string, flag: string): Promise<Architecture> {
  const { dim, depth, heads, mlpDim, patchSize } = toBackboneShape(
    parseCheckpointConfig(await readJson(path, flag)).config,
  );
  return { dim, depth, heads, mlpDim, patchSize };
}

/**
 * Checks that a run's backbone has the architecture of the base model its peft export names, since peft loads the
 * adapter onto that model: the base's shape comes from `baseConfig` (its config.json), from `baseModel` when that is
 * a local folder or config file, or from {@link KNOWN_BASE_MODELS}. Throws `SHAPE_MISMATCH` when they differ and
 * `UNKNOWN_BASE_MODEL` when the base's shape cannot be known.
 */
export async function checkPeftBaseModel(
  run: BackboneShape,
  runName: string,
  baseModel: string,
  baseConfig: string | undefined,
): Promise<void> {
  let base: Architecture;
  if (baseConfig !== undefined) base = await fromConfig(baseConfig, "--base-config");
  else if (existsSync(baseModel)) {
    const config = statSync(baseModel).isDirectory() ? join(baseModel, "config.json") : baseModel;
    base = await fromConfig(config, "--base-model");
  } else if (Object.hasOwn(KNOWN_BASE_MODELS, baseModel)) base = KNOWN_BASE_MODELS[baseModel]!;
  else {
    throw new KoraError({
      code: "UNKNOWN_BASE_MODEL",
      message: `--base-model: cannot check the adapter against ${baseModel}, whose shape this kora does not know; give its config.json with --base-config FILE (known: ${Object.keys(KNOWN_BASE_MODELS).join(", ")})`,
    });
  }
  const differ = (Object.keys(base) as (keyof Architecture)[]).filter((key) => base[key] !== run[key]);
  if (differ.length > 0) {
    throw new KoraError({
      code: "SHAPE_MISMATCH",
      message: `--base-model: ${baseModel} (${describe(base)}) is not the backbone the adapter was trained on: ${runName} (${describe(run)}); peft could not load the adapter onto it`,
    });
  }
}
