import { checkIndex, datasetError } from "../errors";
import type { ClassificationDataset, Dataset } from "../types";

/**
 * A view of `dataset` holding only `indices` (in that order), e.g. a {@link stratifiedSubset}. Item `i` of the view
 * is item `indices[i]` of the dataset; nothing is copied.
 */
export function subsetDataset<D extends Dataset>(dataset: D, indices: ArrayLike<number>): D {
  const map = Int32Array.from(indices as ArrayLike<number>);
  for (let i = 0; i < map.length; i++) {
    if (!Number.isInteger(map[i]) || map[i]! < 0 || map[i]! >= dataset.size) {
      throw datasetError(
        "INVALID_ARGUMENT",
        `subsetDataset: index ${map[i]} at position ${i} is out of range [0, ${dataset.size})`,
        "indices",
      );
    }
  }
  const size = map.length;
  const get = (i: number) => {
    checkIndex(i, size, dataset.name);
    return dataset.get(map[i]!);
  };
  if (dataset.task === "classification") {
    const base = dataset as ClassificationDataset;
    const label = (i: number) => {
      checkIndex(i, size, dataset.name);
      return base.label(map[i]!);
    };
    return { ...dataset, size, get, label } as D;
  }
  return { ...dataset, size, get } as D;
}
