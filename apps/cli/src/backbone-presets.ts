import type { BackboneShape } from "@kora/spec";

/** A backbone without its head: everything of {@link BackboneShape} but `numClasses`. */
export type BackboneBody = Omit<BackboneShape, "numClasses">;

/**
 * Backbone presets by name. TODO(@kora/vit): these shapes belong to @kora/vit's presets; the CLI defines them
 * only until that package lands, and should then read them from there.
 */
export const BACKBONE_PRESETS = {
  "vit-micro": { dim: 48, depth: 3, heads: 3, mlpDim: 192, patchSize: 8, imageSize: 32, channels: 3 },
  "vit-tiny": { dim: 192, depth: 12, heads: 3, mlpDim: 768, patchSize: 16, imageSize: 224, channels: 3 },
  "vit-small": { dim: 384, depth: 12, heads: 6, mlpDim: 1536, patchSize: 16, imageSize: 224, channels: 3 },
  "vit-base": { dim: 768, depth: 12, heads: 12, mlpDim: 3072, patchSize: 16, imageSize: 224, channels: 3 },
} as const satisfies Record<string, BackboneBody>;

/** Names of the backbone presets. */
export type BackbonePresetName = keyof typeof BACKBONE_PRESETS;

/** The preset names, in size order. */
export const BACKBONE_PRESET_NAMES = Object.keys(BACKBONE_PRESETS) as BackbonePresetName[];
