import { backboneParameterCount, headParameterCount, KoraError } from "@kora/spec";
import type { VitErrorCode } from "../errors";

/**
 * Upper bounds on a checkpoint config's shape, checked by {@link parseCheckpointConfig} before anything is
 * allocated. Each is far above any ViT this package can run (ViT-H/14: depth 32, dim 1 280, mlpDim 5 120, 16 heads,
 * 632 M parameters); beyond them a hostile or mistyped `config.json` (`num_hidden_layers` 1e8) used to exhaust the
 * heap before any error could be thrown.
 */
export const VIT_CONFIG_LIMITS = {
  /** Transformer blocks. */
  depth: 1_000,
  /** Hidden size D. */
  dim: 65_536,
  /** Width of the MLP's hidden layer. */
  mlpDim: 262_144,
  /** Attention heads per block (they must also divide `dim`). */
  heads: 1_024,
  /** Side of the input image in pixels (`patchSize` must not exceed it). */
  imageSize: 8_192,
  /** Input channels: per-channel mean and std are arrays of this length. */
  channels: 1_024,
  /** Classes of the classification head. */
  numClasses: 1_000_000,
  /** Parameters of backbone and head together (ViT-22B would be 2.2e10). */
  parameters: 1e10,
} as const;

/** A config's shape fields, with the name each has in the file (for the message and `path`). */
export interface ConfigShape {
  imageSize: number;
  patchSize: number;
  channels: number;
  dim: number;
  depth: number;
  heads: number;
  mlpDim: number;
  numClasses: number;
}

function tooLarge(field: string, message: string): never {
  throw new KoraError<VitErrorCode>({ code: "INVALID_CONFIG", message, path: field });
}

/**
 * Checks a config's shape against {@link VIT_CONFIG_LIMITS} using only arithmetic, so that nothing sized by the
 * config is allocated before it passes. `names` maps each field to its key in the file (`num_hidden_layers`).
 *
 * @throws KoraError `INVALID_CONFIG` naming the field and the limit.
 */
export function checkConfigLimits(shape: ConfigShape, names: Record<keyof ConfigShape, string>): void {
  const { parameters: maxParameters, ...fieldLimits } = VIT_CONFIG_LIMITS;
  // NaN and non-numbers fail no comparison here: the readers and resolveViTConfig name those.
  for (const [field, limit] of Object.entries(fieldLimits) as [keyof typeof fieldLimits, number][]) {
    const value = shape[field];
    if (value > limit) {
      tooLarge(names[field], `${names[field]} is ${value}, more than the limit of ${limit} (${field})`);
    }
  }
  if (shape.patchSize > shape.imageSize) {
    tooLarge(
      names.patchSize,
      `${names.patchSize} is ${shape.patchSize}, more than the image size ${shape.imageSize} (${names.imageSize})`,
    );
  }
  if (shape.heads > 0 && shape.dim % shape.heads !== 0) {
    tooLarge(names.heads, `${names.heads} (${shape.heads}) must divide ${names.dim} (${shape.dim})`);
  }
  // A shape the parameter count cannot take (a zero, a fraction, patches that do not tile) is left for
  // resolveViTConfig to name; every field is bounded by now, so the count below is plain arithmetic.
  const fields = Object.keys(names) as (keyof ConfigShape)[];
  if (fields.some((k) => !Number.isSafeInteger(shape[k]) || shape[k] < (k === "numClasses" ? 0 : 1))) return;
  if (shape.imageSize % shape.patchSize !== 0) return;
  const parameters = backboneParameterCount(shape) + headParameterCount(shape);
  if (parameters > maxParameters) {
    tooLarge(
      names.depth,
      `the config's shape has ${parameters.toExponential(2)} parameters, more than the limit of ${maxParameters.toExponential(0)} (${names.depth} ${shape.depth}, ${names.dim} ${shape.dim}, ${names.mlpDim} ${shape.mlpDim})`,
    );
  }
}
