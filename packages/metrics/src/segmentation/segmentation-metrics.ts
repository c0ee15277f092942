import { KoraError } from "../errors";
import type { MetricsErrorCode } from "../errors/kora-error";

/** Options of {@link segmentationMetrics}. */
export interface SegmentationMetricsOptions {
  /** Number of classes K: labels are integers `0 … K−1` (background, when there is one, is a class like any other). */
  classes: number;
  /**
   * Ground-truth label of pixels that are not scored (unlabelled, void). Such pixels count nowhere, whatever the
   * prediction. Default `255`, the common convention of segmentation datasets (Pascal VOC, ADE20K, Cityscapes).
   */
  ignoreIndex?: number;
}

/** Segmentation scores over every scored pixel of every image (the dataset-level confusion, as mmseg sums it). */
export interface SegmentationMetrics {
  /**
   * Mean intersection over union over the classes whose union is not empty (present in the ground truth or in the
   * prediction); a class that appears in neither is left out rather than counted as 0 or 1.
   */
  mIoU: number;
  /** IoU of each class `TP / (TP + FP + FN)`; `null` where the union is empty (the class appears nowhere). */
  perClassIoU: (number | null)[];
  /** Fraction of scored pixels whose predicted class is the true one. */
  pixelAccuracy: number;
  /** Mean over the classes present in the ground truth of their recall `TP / (TP + FN)`. */
  meanClassAccuracy: number;
  /** Recall of each class; `null` where the class has no ground-truth pixel. */
  perClassAccuracy: (number | null)[];
  /** Confusion counts, `confusion[true][predicted]`, K × K, over the scored pixels. */
  confusion: number[][];
  /** Number of scored pixels (ground truth ≠ `ignoreIndex`). */
  pixels: number;
}

function invalid(code: MetricsErrorCode, message: string, path: string): KoraError<MetricsErrorCode> {
  return new KoraError<MetricsErrorCode>({ code, message, path });
}

function isLabelArray(value: unknown): value is ArrayLike<number> {
  return (
    value !== null &&
    typeof value === "object" &&
    typeof (value as ArrayLike<number>).length === "number" &&
    // A list of images is an array of arrays; a label map holds numbers.
    (ArrayBuffer.isView(value) || !Array.isArray(value) || typeof (value as unknown[])[0] !== "object")
  );
}

function asImages(value: unknown, name: string): { images: readonly ArrayLike<number>[]; list: boolean } {
  if (isLabelArray(value)) return { images: [value], list: false };
  if (Array.isArray(value) && value.every((item) => isLabelArray(item))) return { images: value, list: true };
  throw invalid(
    "INVALID_ARGUMENT",
    `${name} must be a label map (an array of class ids, e.g. an Int32Array of H·W pixels) or a list of them`,
    name,
  );
}

/**
 * Semantic-segmentation scores of predicted label maps against ground-truth label maps: mean IoU, per-class IoU,
 * pixel accuracy and mean class accuracy, from one confusion matrix summed over every scored pixel of every image
 * (the convention of mmsegmentation and torchmetrics: one dataset-level IoU per class, not a mean of per-image
 * IoUs).
 *
 * Classes whose union `TP + FP + FN` is 0 — in neither the ground truth nor the prediction — are excluded from
 * the mean (their IoU is `null`), as mmseg's `nanmean` and torchmetrics' absent-class handling do: a class that
 * does not occur says nothing about the model. Likewise classes without ground-truth pixels are excluded from the
 * mean class accuracy.
 *
 * @param pred - Predicted class ids: one label map (any array of integers, row-major) or a list of them.
 * @param gt - Ground-truth class ids, the same shape as `pred`; `ignoreIndex` marks unscored pixels.
 * @throws KoraError `SHAPE_MISMATCH` (different image counts or sizes), `INVALID_ARGUMENT` (bad `classes` or
 *   `ignoreIndex`, a label that is not an integer in `0 … K−1`), `NO_VALID_PIXELS` (every pixel ignored, or no
 *   pixel at all).
 * @example
 * ```ts
 * segmentationMetrics([0, 1, 1, 2], [0, 1, 2, 2], { classes: 3 }).mIoU; // (1 + 1/2 + 1/2) / 3
 * ```
 */
export function segmentationMetrics(
  pred: ArrayLike<number> | readonly ArrayLike<number>[],
  gt: ArrayLike<number> | readonly ArrayLike<number>[],
  options: SegmentationMetricsOptions,
): SegmentationMetrics {
  const classes = options?.classes;
  if (!Number.isInteger(classes) || classes < 1) {
    throw invalid(
      "INVALID_ARGUMENT",
      `options.classes must be an integer ≥ 1, got ${classes}`,
      "options.classes",
    );
  }
  const ignoreIndex = options.ignoreIndex ?? 255;
  if (!Number.isInteger(ignoreIndex) || (ignoreIndex >= 0 && ignoreIndex < classes)) {
    throw invalid(
      "INVALID_ARGUMENT",
      `options.ignoreIndex must be an integer outside 0 … ${classes - 1} (it would hide a class), got ${ignoreIndex}`,
      "options.ignoreIndex",
    );
  }
  const preds = asImages(pred, "pred");
  const gts = asImages(gt, "gt");
  if (preds.images.length !== gts.images.length) {
    throw invalid(
      "SHAPE_MISMATCH",
      `pred and gt must hold the same number of images, got ${preds.images.length} and ${gts.images.length}`,
      "pred",
    );
  }
  // Counts stay exact in float64 up to 2⁵³ pixels.
  const confusion = new Float64Array(classes * classes);
  let pixels = 0;
  preds.images.forEach((p, index) => {
    const g = gts.images[index]!;
    const pName = preds.list ? `pred[${index}]` : "pred";
    const gName = gts.list ? `gt[${index}]` : "gt";
    if (p.length !== g.length) {
      throw invalid("SHAPE_MISMATCH", `${pName} has ${p.length} pixels but ${gName} has ${g.length}`, pName);
    }
    for (let i = 0; i < g.length; i++) {
      const t = g[i]!;
      if (t === ignoreIndex) continue;
      if (!(Number.isInteger(t) && t >= 0 && t < classes)) {
        throw invalid(
          "INVALID_ARGUMENT",
          `${gName}[${i}] is ${t}; ground-truth labels must be integers in 0 … ${classes - 1} or ignoreIndex ${ignoreIndex}`,
          `${gName}[${i}]`,
        );
      }
      const q = p[i]!;
      if (!(Number.isInteger(q) && q >= 0 && q < classes)) {
        throw invalid(
          "INVALID_ARGUMENT",
          `${pName}[${i}] is ${q}; predicted labels must be integers in 0 … ${classes - 1}`,
          `${pName}[${i}]`,
        );
      }
      confusion[t * classes + q]! += 1;
      pixels++;
    }
  });
  if (pixels === 0) {
    throw invalid(
      "NO_VALID_PIXELS",
      `gt has no scored pixel (every pixel is ignoreIndex ${ignoreIndex}, or there are none)`,
      "gt",
    );
  }
  return fromConfusion(confusion, classes, pixels);
}

function fromConfusion(confusion: Float64Array, classes: number, pixels: number): SegmentationMetrics {
  const perClassIoU: (number | null)[] = [];
  const perClassAccuracy: (number | null)[] = [];
  let correct = 0;
  let iouSum = 0;
  let iouCount = 0;
  let accuracySum = 0;
  let accuracyCount = 0;
  for (let c = 0; c < classes; c++) {
    const tp = confusion[c * classes + c]!;
    let truth = 0; // TP + FN: the row
    let predicted = 0; // TP + FP: the column
    for (let k = 0; k < classes; k++) {
      truth += confusion[c * classes + k]!;
      predicted += confusion[k * classes + c]!;
    }
    correct += tp;
    const union = truth + predicted - tp;
    if (union > 0) {
      const iou = tp / union;
      perClassIoU.push(iou);
      iouSum += iou;
      iouCount++;
    } else {
      perClassIoU.push(null);
    }
    if (truth > 0) {
      const recall = tp / truth;
      perClassAccuracy.push(recall);
      accuracySum += recall;
      accuracyCount++;
    } else {
      perClassAccuracy.push(null);
    }
  }
  const rows: number[][] = [];
  for (let t = 0; t < classes; t++) rows.push(Array.from(confusion.subarray(t * classes, (t + 1) * classes)));
  // pixels > 0 guarantees one class with ground truth, hence iouCount ≥ 1 and accuracyCount ≥ 1.
  return {
    mIoU: iouSum / iouCount,
    perClassIoU,
    pixelAccuracy: correct / pixels,
    meanClassAccuracy: accuracySum / accuracyCount,
    perClassAccuracy,
    confusion: rows,
    pixels,
  };
}
