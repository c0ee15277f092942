import type { Dataset } from "@kora/datasets";
import type { Matrix } from "@kora/metrics";
import type { FeaturePooling, ViT } from "@kora/vit";
import * as tf from "@tensorflow/tfjs";
import { exampleCount, tensorBatches } from "./batches";
import { checkInteger, finetuneError } from "./errors";
import { disposeTensors } from "./evaluate";

/** Options of {@link blockFeatures}. */
export interface BlockFeaturesOptions {
  batchSize: number;
  /** Dataset indices to run, in this order (the rows). Default: every item. */
  indices?: ArrayLike<number> | undefined;
  /** Blocks whose outputs to keep (0-based). Default: every block. */
  blocks?: readonly number[] | undefined;
  /** How each block's sequence becomes one row: `"mean"` of the patch tokens (default) or the `"cls"` token. */
  pool?: Extract<FeaturePooling, "mean" | "cls"> | undefined;
  /** After each batch (progress). */
  onBatch?: ((examples: number) => void) | undefined;
}

/**
 * The output of each transformer block on a dataset, pooled to one vector per example: one matrix per block
 * (rows = examples in order, columns = the model's width), what `@kora/metrics`' CKA compares. Runs in inference
 * mode with whatever adapter is enabled.
 *
 * @throws KoraError `INVALID_ARGUMENT` for a block the backbone does not have.
 */
export async function blockFeatures(
  vit: ViT,
  dataset: Dataset,
  options: BlockFeaturesOptions,
): Promise<Matrix[]> {
  const { depth, dim } = vit.config;
  checkInteger(options.batchSize, "batchSize", 1);
  const blocks = options.blocks ?? Array.from({ length: depth }, (_, k) => k);
  for (const block of blocks) {
    if (!(Number.isInteger(block) && block >= 0 && block < depth)) {
      throw finetuneError(
        "INVALID_ARGUMENT",
        `block ${block} does not exist; the backbone has blocks 0-${depth - 1}`,
        "blocks",
      );
    }
  }
  const examples = exampleCount(dataset, options);
  const buffers = blocks.map(() => new Float32Array(examples * dim));
  let row = 0;
  const batches = tensorBatches(dataset, vit.config, {
    batchSize: options.batchSize,
    indices: options.indices,
  });
  for await (const batch of batches) {
    try {
      const states = vit.features(batch.images, { format: "NHWC", pool: options.pool ?? "mean" });
      try {
        // states[0] is the embedding output; states[k + 1] is block k's output.
        for (const [i, k] of blocks.entries()) buffers[i]!.set(await states[k + 1]!.data(), row * dim);
      } finally {
        tf.dispose(states);
      }
      row += batch.indices.length;
    } finally {
      disposeTensors(batch);
    }
    options.onBatch?.(batch.indices.length);
  }
  return buffers.map((data) => ({ rows: examples, cols: dim, data }));
}
