import { createViT, type ViT, type ViTConfigInput, type ViTPresetName } from "@kora/vit";
import { loadViT } from "@kora/vit/node";

/**
 * Where a backbone comes from: a `@kora/vit` preset (or config) randomly initialised from `seed`, or a checkpoint
 * on disk (Hugging Face / timm `model.safetensors`, or a folder holding it and `config.json`).
 */
export type BackboneSource =
  | { preset: ViTPresetName | ViTConfigInput; seed: number }
  | { weights: string; config?: string | undefined };

/** Builds the backbone a source names, without a head (the task adds its own). */
export async function openBackbone(source: BackboneSource): Promise<ViT> {
  if ("preset" in source) {
    const config = typeof source.preset === "string" ? { preset: source.preset } : source.preset;
    return createViT({ ...config, numClasses: 0 } as ViTConfigInput, { seed: source.seed });
  }
  return loadViT(source.weights, source.config, { numClasses: 0 });
}
