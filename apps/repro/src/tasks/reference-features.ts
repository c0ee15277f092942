import type { ClassificationDataset } from "@kora/datasets";
import { blockFeatures, disposeModel } from "@kora/finetune";
import { openBackbone } from "@kora/finetune/node";
import type { Matrix } from "@kora/metrics";
import { type BackboneInfo, backboneSource } from "./backbone";
import type { TaskContext } from "./context";

const cache = new Map<string, Matrix[]>();

/**
 * Block features of the frozen pretrained backbone on the CKA items, pooled as asked (mean of the patch tokens by
 * default, or the CLS token); computed once per process and pooling.
 */
export async function pretrainedFeatures(
  context: TaskContext,
  backbone: BackboneInfo,
  dataset: ClassificationDataset,
  items: number[],
  pool: "mean" | "cls" = "mean",
): Promise<Matrix[]> {
  const key = `${backbone.hash}:${dataset.name}:${items.length}:${items[0]}:${items.at(-1)}:${pool}`;
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  const vit = await openBackbone(backboneSource(backbone));
  try {
    const features = await blockFeatures(vit, dataset, {
      batchSize: context.preset.batchSize,
      indices: items,
      pool,
    });
    // One backbone and evaluation set per plan: the newest two poolings are all a process needs.
    if (cache.size >= 2) cache.delete(cache.keys().next().value as string);
    cache.set(key, features);
    return features;
  } finally {
    disposeModel(vit);
  }
}
