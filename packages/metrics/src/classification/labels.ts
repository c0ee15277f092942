import { KoraError } from "../errors";
import type { MetricsErrorCode } from "../errors/kora-error";

/** A class label: an integer/number or a string. */
export type Label = number | string;

/** An array of class labels: numbers (any typed array) or strings. Do not mix numbers and strings. */
export type LabelArray = ArrayLike<number> | readonly string[];

/** Copies labels into a plain array and checks they are finite numbers or all strings. @internal */
export function toLabels(values: LabelArray, name: string): Label[] {
  if (values === null || typeof values !== "object" || typeof values.length !== "number") {
    throw new KoraError<MetricsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `${name} must be an array of labels, got ${values === null ? "null" : typeof values}`,
      path: name,
    });
  }
  const out = Array.from(values as ArrayLike<Label>);
  const kind = typeof out[0];
  for (let i = 0; i < out.length; i++) {
    const v = out[i];
    if (typeof v !== kind || (typeof v !== "number" && typeof v !== "string")) {
      throw new KoraError<MetricsErrorCode>({
        code: "INVALID_ARGUMENT",
        message: `${name} must hold only numbers or only strings; ${name}[${i}] is ${typeof v}`,
        path: `${name}[${i}]`,
      });
    }
    if (typeof v === "number" && !Number.isFinite(v)) {
      throw new KoraError<MetricsErrorCode>({
        code: "NON_FINITE",
        message: `${name}[${i}] is ${v}; labels must be finite`,
        path: `${name}[${i}]`,
      });
    }
  }
  return out;
}

/** Validated true/predicted labels of equal, non-zero length. @internal */
export function toLabelPair(yTrue: LabelArray, yPred: LabelArray): [Label[], Label[]] {
  const t = toLabels(yTrue, "yTrue");
  const p = toLabels(yPred, "yPred");
  if (t.length !== p.length) {
    throw new KoraError<MetricsErrorCode>({
      code: "SHAPE_MISMATCH",
      message: `yTrue and yPred must have the same length, got ${t.length} and ${p.length}`,
      path: "yPred",
    });
  }
  if (t.length === 0) {
    throw new KoraError<MetricsErrorCode>({
      code: "TOO_FEW_EXAMPLES",
      message: "at least one example is needed",
      path: "yTrue",
    });
  }
  if (t.length > 0 && typeof t[0] !== typeof p[0]) {
    throw new KoraError<MetricsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: "yTrue and yPred must both hold numbers or both hold strings",
      path: "yPred",
    });
  }
  return [t, p];
}

/** Sorted union of labels (numeric order for numbers, code-unit order for strings), as scikit-learn's `unique_labels`. @internal */
export function uniqueSorted(...lists: Label[][]): Label[] {
  const set = new Set<Label>();
  for (const list of lists) for (const v of list) set.add(v);
  const out = [...set];
  if (typeof out[0] === "number") (out as number[]).sort((x, y) => x - y);
  else out.sort();
  return out;
}

/** The label list to use: the given one (validated, no duplicates) or the sorted union. @internal */
export function resolveLabels(given: LabelArray | undefined, yTrue: Label[], yPred: Label[]): Label[] {
  if (given === undefined) return uniqueSorted(yTrue, yPred);
  const labels = toLabels(given, "options.labels");
  if (labels.length === 0) {
    throw new KoraError<MetricsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: "options.labels must not be empty",
      path: "options.labels",
    });
  }
  if (new Set(labels).size !== labels.length) {
    throw new KoraError<MetricsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: "options.labels must not repeat a label",
      path: "options.labels",
    });
  }
  return labels;
}

/** Map from label to its position in `labels`. @internal */
export function labelIndex(labels: readonly Label[]): Map<Label, number> {
  return new Map(labels.map((label, i) => [label, i]));
}
