import type { SafetensorsTensor } from "@kora/spec";

/** A float32 tensor in PyTorch layout. */
export interface Float32Tensor {
  /** Dimensions, outermost first. */
  shape: number[];
  /** Elements, row-major. */
  data: Float32Array;
}

const TIMM_BLOCK: Record<string, string> = {
  "norm1.weight": "layernorm_before.weight",
  "norm1.bias": "layernorm_before.bias",
  "norm2.weight": "layernorm_after.weight",
  "norm2.bias": "layernorm_after.bias",
  "attn.proj.weight": "attention.output.dense.weight",
  "attn.proj.bias": "attention.output.dense.bias",
  "mlp.fc1.weight": "intermediate.dense.weight",
  "mlp.fc1.bias": "intermediate.dense.bias",
  "mlp.fc2.weight": "output.dense.weight",
  "mlp.fc2.bias": "output.dense.bias",
};

const TIMM_TOP: Record<string, string> = {
  cls_token: "vit.embeddings.cls_token",
  pos_embed: "vit.embeddings.position_embeddings",
  "patch_embed.proj.weight": "vit.embeddings.patch_embeddings.projection.weight",
  "patch_embed.proj.bias": "vit.embeddings.patch_embeddings.projection.bias",
  "norm.weight": "vit.layernorm.weight",
  "norm.bias": "vit.layernorm.bias",
  "head.weight": "classifier.weight",
  "head.bias": "classifier.bias",
};

const TIMM_BLOCK_NAME = /^blocks\.(\d+)\.(.+)$/;

/** True when the tensor names are timm's (`cls_token`, `pos_embed`, `blocks.N.…`) rather than Hugging Face's. */
export function hasTimmNames(names: readonly string[]): boolean {
  return names.some((name) => name === "cls_token" || name === "pos_embed" || TIMM_BLOCK_NAME.test(name));
}

/** Problems found while renaming: fused tensors of a shape that cannot be split. */
export interface RenameProblem {
  /** The tensor's name in the file. */
  name: string;
  /** What is wrong. */
  message: string;
}

/**
 * Renames timm `vit_*` tensors to Hugging Face `ViTForImageClassification` names and splits each fused
 * `blocks.N.attn.qkv` (weight `[3D, D]`, bias `[3D]`) into query/key/value (rows `0:D`, `D:2D`, `2D:3D`). Names
 * with no HF counterpart are kept as they are (and are then reported as unexpected by the loader).
 */
export function timmToHfTensors(
  tensors: Record<string, Float32Tensor>,
  problems: RenameProblem[] = [],
): Record<string, Float32Tensor> {
  const out: Record<string, Float32Tensor> = Object.create(null);
  for (const [name, tensor] of Object.entries(tensors)) {
    const top = TIMM_TOP[name];
    if (top !== undefined) {
      out[top] = tensor;
      continue;
    }
    const block = TIMM_BLOCK_NAME.exec(name);
    if (block === null) {
      out[name] = tensor;
      continue;
    }
    const prefix = `vit.encoder.layer.${block[1]}.`;
    const rest = block[2] as string;
    const mapped = TIMM_BLOCK[rest];
    if (mapped !== undefined) {
      out[prefix + mapped] = tensor;
    } else if (rest === "attn.qkv.weight" || rest === "attn.qkv.bias") {
      const rows = tensor.shape[0] ?? 0;
      const rowSize = tensor.shape.slice(1).reduce((a, b) => a * b, 1);
      if (rows % 3 !== 0 || rows === 0) {
        problems.push({ name, message: `fused qkv has ${rows} rows, not a multiple of 3` });
        continue;
      }
      const d = rows / 3;
      const kind = rest.endsWith("weight") ? "weight" : "bias";
      ["query", "key", "value"].forEach((target, i) => {
        out[`${prefix}attention.attention.${target}.${kind}`] = {
          shape: [d, ...tensor.shape.slice(1)],
          data: tensor.data.slice(i * d * rowSize, (i + 1) * d * rowSize),
        };
      });
    } else {
      out[name] = tensor;
    }
  }
  return out;
}

/**
 * Gives bare `ViTModel` names (`embeddings.…`, `encoder.…`, `layernorm.…`) the `vit.` prefix of
 * `ViTForImageClassification` and drops the pooler (`pooler.…`), which `ViTForImageClassification` does not use.
 */
export function normaliseHfNames(tensors: Record<string, Float32Tensor>): Record<string, Float32Tensor> {
  const out: Record<string, Float32Tensor> = Object.create(null);
  for (const [name, tensor] of Object.entries(tensors)) {
    if (name.startsWith("pooler.") || name.startsWith("vit.pooler.")) continue;
    const bare =
      name.startsWith("embeddings.") || name.startsWith("encoder.") || name.startsWith("layernorm.");
    out[bare ? `vit.${name}` : name] = tensor;
  }
  return out;
}

/** @internal A safetensors tensor read with `asFloat32`, as a {@link Float32Tensor} (or null for other dtypes). */
export function asFloat32Tensor(tensor: SafetensorsTensor): Float32Tensor | null {
  return tensor.data instanceof Float32Array ? { shape: [...tensor.shape], data: tensor.data } : null;
}
