import { float32ToFloat16Bits, KoraError, writeSafetensors } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import type { VitErrorCode } from "../errors";
import type { NamedParameter } from "../model/parameters";
import type { ViT } from "../model/vit";
import { toHfConfig } from "./checkpoint-config";

/** Options of {@link encodeViT} and `saveViT`. */
export interface EncodeViTOptions {
  /**
   * Element type of the stored weights: `"F32"` (default, bit-exact) or `"F16"` (half the bytes; each weight
   * rounded to the nearest float16, which loads back as that float32 value). Checkpoints to ship, not to resume.
   */
  dtype?: "F32" | "F16" | undefined;
}

/** What {@link encodeViT} returns. */
export interface EncodedViT {
  /** The weights as safetensors (F32 or F16, Hugging Face names and PyTorch layouts, metadata `format: "pt"`). */
  safetensors: Uint8Array;
  /** The Hugging Face `config.json` object (see {@link toHfConfig}). */
  config: Record<string, unknown>;
}

function toTorch(
  parameter: NamedParameter,
  patchSize: number,
  channels: number,
): { shape: number[]; data: Float32Array } {
  return tf.tidy(() => {
    const value = parameter.variable as tf.Tensor;
    let out: tf.Tensor = value;
    if (parameter.layout === "linear") out = tf.transpose(value);
    if (parameter.layout === "patch") {
      const d = value.shape[1] as number;
      // [P·P·C, D] → [P, P, C, D] → [D, C, P, P]
      out = tf.transpose(tf.reshape(value, [patchSize, patchSize, channels, d]), [3, 2, 0, 1]);
    }
    return { shape: [...out.shape], data: Float32Array.from(out.dataSync() as Float32Array) };
  });
}

/**
 * Serialises a ViT as a Hugging Face checkpoint: safetensors with `ViTForImageClassification` names (a depth head
 * as `depth_head.projection.*`) and the matching `config.json`. {@link decodeViT} reads it back bit-identically
 * (in F16, as each weight's float16 rounding).
 *
 * @throws KoraError `INVALID_ARGUMENT` (path `dtype`) for a dtype other than `"F32"` and `"F16"`.
 */
export function encodeViT(vit: ViT, options: EncodeViTOptions = {}): EncodedViT {
  const dtype = options.dtype ?? "F32";
  if (dtype !== "F32" && dtype !== "F16") {
    throw new KoraError<VitErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `encodeViT: dtype must be "F32" or "F16", got ${JSON.stringify(dtype)}`,
      path: "dtype",
    });
  }
  const { patchSize, channels } = vit.config;
  const tensors: Record<
    string,
    | { dtype: "F32"; shape: number[]; data: Float32Array }
    | { dtype: "F16"; shape: number[]; data: Uint16Array }
  > = {};
  for (const parameter of vit.namedParameters()) {
    const { shape, data } = toTorch(parameter, patchSize, channels);
    tensors[parameter.name] =
      dtype === "F32"
        ? { dtype, shape, data }
        : { dtype, shape, data: Uint16Array.from(data, float32ToFloat16Bits) };
  }
  return { safetensors: writeSafetensors(tensors, { format: "pt" }), config: toHfConfig(vit.config) };
}
