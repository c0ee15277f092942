import { type BackboneShape, KoraError, validateBackboneShape } from "@kora/spec";
import type { BackboneBody } from "./backbone-presets";

/** What a Hugging Face `config.json` says about the backbone, and the class count when it has labels. */
export interface HfBackbone {
  body: BackboneBody;
  numClasses: number | undefined;
}

function side(value: unknown): unknown {
  // HF allows image_size / patch_size as [h, w]; a square one is accepted.
  if (Array.isArray(value) && value.length === 2 && value[0] === value[1]) return value[0];
  return value;
}

/**
 * Reads the backbone shape from a Hugging Face ViT `config.json` (`hidden_size`, `num_hidden_layers`,
 * `num_attention_heads`, `intermediate_size`, `image_size`, `patch_size`, `num_channels` (default 3), and the class
 * count from `id2label` or `num_labels`). TODO(@kora/vit): the HF config mapping belongs to @kora/vit.
 *
 * @throws KoraError `INVALID_CONFIG` naming the file and the missing or malformed field.
 */
export function backboneFromHfConfig(config: unknown, file: string): HfBackbone {
  if (config === null || typeof config !== "object" || Array.isArray(config)) {
    throw new KoraError({
      code: "INVALID_CONFIG",
      message: `${file}: expected a JSON object (a HF config.json)`,
    });
  }
  const record = config as Record<string, unknown>;
  const fields = {
    dim: "hidden_size",
    depth: "num_hidden_layers",
    heads: "num_attention_heads",
    mlpDim: "intermediate_size",
    imageSize: "image_size",
    patchSize: "patch_size",
  } as const;
  const body: Record<string, unknown> = { channels: record["num_channels"] ?? 3 };
  for (const [field, key] of Object.entries(fields)) {
    if (!(key in record)) {
      throw new KoraError({
        code: "INVALID_CONFIG",
        message: `${file}: missing "${key}" (a ViT config.json has hidden_size, num_hidden_layers, num_attention_heads, intermediate_size, image_size, patch_size)`,
        path: key,
      });
    }
    body[field] = side(record[key]);
  }
  let numClasses: number | undefined;
  const id2label = record["id2label"];
  if (id2label !== null && typeof id2label === "object") numClasses = Object.keys(id2label).length;
  else if (typeof record["num_labels"] === "number") numClasses = record["num_labels"];
  try {
    validateBackboneShape({ ...body, numClasses: numClasses ?? 0 }, file);
  } catch (error) {
    if (!KoraError.isInstance(error)) throw error;
    const key = error.path === undefined ? undefined : (fields as Record<string, string>)[error.path];
    throw new KoraError({
      code: "INVALID_CONFIG",
      message: key === undefined ? error.message : `${error.message} (from "${key}")`,
      ...(error.path === undefined ? {} : { path: error.path }),
      cause: error,
    });
  }
  return { body: body as unknown as BackboneBody, numClasses };
}

/** One-line description of a backbone shape. */
export function describeBackbone(shape: BackboneShape): string {
  return `dim ${shape.dim}, depth ${shape.depth}, heads ${shape.heads}, mlp ${shape.mlpDim}, patch ${shape.patchSize}, image ${shape.imageSize}, ${shape.channels} channels, ${shape.numClasses} classes`;
}
