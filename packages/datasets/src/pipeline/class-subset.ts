import { checkIndex, datasetError } from "../errors";
import type { ClassificationDataset } from "../types";

/**
 * A view of a classification dataset holding only the items of `classes`, relabelled `0 … classes.length − 1` in
 * the order given (`classes[k]` becomes label `k`; its name stays). Nothing is copied: the view keeps a map from
 * its items to the dataset's, built from `label(i)` without decoding an image. Two disjoint class lists of one
 * dataset make a source task and a target task that share the image domain but no class.
 *
 * @throws KoraError `INVALID_ARGUMENT` for an empty, repeated or out-of-range class.
 */
export function classSubsetDataset(
  dataset: ClassificationDataset,
  classes: readonly number[],
): ClassificationDataset {
  if (classes.length === 0) {
    throw datasetError("INVALID_ARGUMENT", "classSubsetDataset: give at least one class", "classes");
  }
  const position = new Map<number, number>();
  classes.forEach((c, k) => {
    if (!Number.isInteger(c) || c < 0 || c >= dataset.classes.length) {
      throw datasetError(
        "INVALID_ARGUMENT",
        `classSubsetDataset: class ${c} at position ${k} is not a class of ${dataset.name} (0 … ${dataset.classes.length - 1})`,
        "classes",
      );
    }
    if (position.has(c)) {
      throw datasetError("INVALID_ARGUMENT", `classSubsetDataset: class ${c} is given twice`, "classes");
    }
    position.set(c, k);
  });
  const items: number[] = [];
  for (let i = 0; i < dataset.size; i++) {
    if (position.has(dataset.label(i))) items.push(i);
  }
  const map = Int32Array.from(items);
  const size = map.length;
  return {
    ...dataset,
    size,
    classes: classes.map((c) => dataset.classes[c] as string),
    get(i: number) {
      checkIndex(i, size, dataset.name);
      const item = dataset.get(map[i] as number);
      return { image: item.image, label: position.get(item.label) as number };
    },
    label(i: number) {
      checkIndex(i, size, dataset.name);
      return position.get(dataset.label(map[i] as number)) as number;
    },
  };
}
