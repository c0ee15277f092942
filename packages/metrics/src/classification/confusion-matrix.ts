import { type Label, type LabelArray, labelIndex, resolveLabels, toLabelPair } from "./labels";

/** Options of {@link confusionMatrix}. */
export interface ConfusionMatrixOptions {
  /** Labels indexing the rows and columns, in this order. Default: sorted union of `yTrue` and `yPred`. Examples whose true or predicted label is not listed are ignored. */
  labels?: LabelArray;
}

/** Result of {@link confusionMatrix}. */
export interface ConfusionMatrix {
  /** Label of each row (true) and column (predicted). */
  labels: Label[];
  /** `matrix[i][j]` = number of examples with true label `labels[i]` predicted as `labels[j]`. */
  matrix: number[][];
}

/**
 * Confusion matrix with rows = true labels and columns = predicted labels, as scikit-learn's `confusion_matrix`.
 *
 * @throws KoraError `SHAPE_MISMATCH`, `TOO_FEW_EXAMPLES`, `NON_FINITE`, `INVALID_ARGUMENT`.
 */
export function confusionMatrix(
  yTrue: LabelArray,
  yPred: LabelArray,
  options: ConfusionMatrixOptions = {},
): ConfusionMatrix {
  const [t, p] = toLabelPair(yTrue, yPred);
  const labels = resolveLabels(options.labels, t, p);
  return { labels, matrix: countMatrix(t, p, labels) };
}

/** Counts (true, predicted) pairs over the given labels. @internal */
export function countMatrix(t: Label[], p: Label[], labels: Label[]): number[][] {
  const index = labelIndex(labels);
  const matrix = labels.map(() => new Array<number>(labels.length).fill(0));
  for (let i = 0; i < t.length; i++) {
    const r = index.get(t[i]!);
    const c = index.get(p[i]!);
    if (r !== undefined && c !== undefined) matrix[r]![c]!++;
  }
  return matrix;
}
