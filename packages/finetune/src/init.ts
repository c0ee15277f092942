import { hashSeed } from "@kora/spec";
import type { ViT } from "@kora/vit";
import * as tf from "@tensorflow/tfjs";
import { finetuneError } from "./errors";

/**
 * Initialisation schemes of a backbone's weight matrices: `"hf"` keeps `@kora/vit`'s Hugging Face N(0, 0.02)
 * (truncated at 2σ); `"lecun"` redraws them as N(0, 1/fan_in) truncated at 2σ.
 */
export type InitScheme = "hf" | "lecun";

/** The scheme names {@link initialiseWeights} accepts. */
export const INIT_SCHEMES: readonly InitScheme[] = ["hf", "lecun"];

/**
 * Re-initialises the weight matrices of a freshly created model by `scheme`, from `seed`: the patch embedding, the
 * attention and MLP projections and the head (every rank-2 parameter). LayerNorms, biases, the CLS token and the
 * position embeddings keep their values. `"hf"` changes nothing. A small model pretrained from scratch trains
 * faster from LeCun's fan-in scaling than from the fixed 0.02 that suits ViT-B's width.
 *
 * @throws KoraError `INVALID_ARGUMENT` for an unknown scheme.
 */
export function initialiseWeights(vit: ViT, scheme: InitScheme, seed: number): void {
  if (!INIT_SCHEMES.includes(scheme)) {
    throw finetuneError(
      "INVALID_ARGUMENT",
      `init scheme must be one of ${INIT_SCHEMES.join(", ")}, got "${String(scheme)}"`,
      "scheme",
    );
  }
  if (scheme === "hf") return;
  for (const { name, variable } of vit.namedParameters()) {
    if (variable.shape.length !== 2 || name.includes("layernorm")) continue;
    // Hugging Face names: under vit.embeddings only the patch projection is a weight matrix to redraw.
    if (name.startsWith("vit.embeddings.") && !name.includes("patch_embeddings")) continue;
    const [fanIn, fanOut] = variable.shape as [number, number];
    const std = 1 / Math.sqrt(fanIn);
    tf.tidy(() =>
      variable.assign(tf.truncatedNormal([fanIn, fanOut], 0, std, "float32", hashSeed(seed, "lecun", name))),
    );
  }
}
