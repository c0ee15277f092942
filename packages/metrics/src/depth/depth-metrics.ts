import { KoraError } from "../errors";
import type { MetricsErrorCode } from "../errors/kora-error";
import type { Matrix } from "../matrix";

/** Crop rectangle in pixels: rows `[top, bottom)`, columns `[left, right)`. */
export interface CropBox {
  /** First row kept. */
  top: number;
  /** One past the last row kept. */
  bottom: number;
  /** First column kept. */
  left: number;
  /** One past the last column kept. */
  right: number;
}

/** Options of {@link depthMetrics}. */
export interface DepthMetricsOptions {
  /** Ground-truth depths must be greater than this to be evaluated. Default `1e-3` (NYU Depth V2 convention). */
  minDepth?: number;
  /** Ground-truth depths must be less than this to be evaluated. Default `10` (metres, NYU Depth V2). */
  maxDepth?: number;
  /**
   * `"none"` (default); `"eigen"`: the Eigen et al. 2014 NYU crop, rows 45–470 and columns 41–600 inclusive
   * (`[45:471, 41:601]`), for 480 × 640 images only; or an explicit {@link CropBox}.
   */
  crop?: "none" | "eigen" | CropBox;
  /**
   * Multiply each prediction by `median(gt) / median(pred)` over its valid pixels before scoring (for
   * scale-ambiguous models). Default `false`.
   */
  medianScaling?: boolean;
  /**
   * Clamp predictions to `[minDepth, maxDepth]` before scoring (after median scaling), as the common NYU
   * evaluation code (BTS, AdaBins) does. Default `true`. When `false`, a prediction ≤ 0 at a valid pixel throws
   * `NON_POSITIVE_DEPTH`.
   */
  clampPrediction?: boolean;
}

/** Depth-estimation errors and accuracies, each computed per image and then averaged over images. */
export interface DepthMetrics {
  /** Root mean squared error `√mean((gt − pred)²)`. */
  rmse: number;
  /** Mean absolute relative error `mean(|gt − pred| / gt)`. */
  absRel: number;
  /** Mean squared relative error `mean((gt − pred)² / gt)`. */
  sqRel: number;
  /** RMSE of natural logs `√mean((ln gt − ln pred)²)`. */
  rmseLog: number;
  /** Mean absolute log10 error `mean(|log10 gt − log10 pred|)`. */
  log10: number;
  /** Fraction of pixels with `max(gt/pred, pred/gt) < 1.25`. */
  delta1: number;
  /** Same with threshold `1.25²`. */
  delta2: number;
  /** Same with threshold `1.25³`. */
  delta3: number;
  /** Scale-invariant log error `100 · √(mean(e²) − mean(e)²)` with `e = ln pred − ln gt` (Eigen et al. 2014, as BTS reports it). */
  silog: number;
  /** Number of images averaged. */
  images: number;
}

const EIGEN_CROP: CropBox = { top: 45, bottom: 471, left: 41, right: 601 };
const KEYS = ["rmse", "absRel", "sqRel", "rmseLog", "log10", "delta1", "delta2", "delta3", "silog"] as const;

function checkImage(m: Matrix, name: string): void {
  if (
    m === null ||
    typeof m !== "object" ||
    !Number.isInteger(m.rows) ||
    !Number.isInteger(m.cols) ||
    m.data === undefined ||
    m.data.length !== m.rows * m.cols
  ) {
    throw new KoraError<MetricsErrorCode>({
      code: "SHAPE_MISMATCH",
      message: `${name} must be a Matrix { rows: height, cols: width, data } with data.length = rows * cols`,
      path: name,
    });
  }
}

function median(values: Float64Array): number {
  const sorted = values.slice().sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Standard monocular depth metrics (Eigen et al. 2014) over one image or a list of images.
 *
 * A pixel is valid when its ground truth is finite and in the open interval (minDepth, maxDepth) and inside the
 * crop. Each image's metrics are computed over its valid pixels, then the per-image values are averaged, as the
 * NYU Depth V2 evaluation scripts do.
 *
 * @param pred - Predicted depth map(s), rows = height, cols = width.
 * @param gt - Ground-truth depth map(s) of the same sizes.
 * @throws KoraError `SHAPE_MISMATCH`, `NON_FINITE` (non-finite prediction at a valid pixel), `INVALID_ARGUMENT`,
 *   `NO_VALID_PIXELS`, `NON_POSITIVE_DEPTH`, `TOO_FEW_EXAMPLES` (empty list).
 * @see https://arxiv.org/abs/1406.2283
 */
export function depthMetrics(
  pred: Matrix | readonly Matrix[],
  gt: Matrix | readonly Matrix[],
  options: DepthMetricsOptions = {},
): DepthMetrics {
  const preds = Array.isArray(pred) ? (pred as readonly Matrix[]) : [pred as Matrix];
  const gts = Array.isArray(gt) ? (gt as readonly Matrix[]) : [gt as Matrix];
  const minDepth = options.minDepth ?? 1e-3;
  const maxDepth = options.maxDepth ?? 10;
  if (!(minDepth >= 0) || !(maxDepth > minDepth) || !Number.isFinite(maxDepth)) {
    throw new KoraError<MetricsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `need 0 <= options.minDepth < options.maxDepth < Infinity, got ${minDepth} and ${maxDepth}`,
      path: "options.minDepth",
    });
  }
  const clamp = options.clampPrediction ?? true;
  if (preds.length !== gts.length) {
    throw new KoraError<MetricsErrorCode>({
      code: "SHAPE_MISMATCH",
      message: `pred and gt must hold the same number of images, got ${preds.length} and ${gts.length}`,
      path: "pred",
    });
  }
  if (preds.length === 0) {
    throw new KoraError<MetricsErrorCode>({
      code: "TOO_FEW_EXAMPLES",
      message: "depthMetrics needs at least one image",
      path: "pred",
    });
  }
  const totals = Object.fromEntries(KEYS.map((k) => [k, 0])) as Record<(typeof KEYS)[number], number>;
  preds.forEach((p, index) => {
    const g = gts[index]!;
    const pName = preds.length === 1 && !Array.isArray(pred) ? "pred" : `pred[${index}]`;
    const gName = preds.length === 1 && !Array.isArray(gt) ? "gt" : `gt[${index}]`;
    checkImage(p, pName);
    checkImage(g, gName);
    if (p.rows !== g.rows || p.cols !== g.cols) {
      throw new KoraError<MetricsErrorCode>({
        code: "SHAPE_MISMATCH",
        message: `${pName} is ${p.rows} × ${p.cols} but ${gName} is ${g.rows} × ${g.cols}`,
        path: pName,
      });
    }
    const box = cropBox(options.crop ?? "none", g.rows, g.cols);
    const gv: number[] = [];
    const pv: number[] = [];
    for (let r = box.top; r < box.bottom; r++) {
      for (let c = box.left; c < box.right; c++) {
        const i = r * g.cols + c;
        const d = g.data[i]!;
        if (!(d > minDepth && d < maxDepth)) continue;
        const e = p.data[i]!;
        if (!Number.isFinite(e)) {
          throw new KoraError<MetricsErrorCode>({
            code: "NON_FINITE",
            message: `${pName} is ${e} at valid pixel (row ${r}, col ${c})`,
            path: pName,
          });
        }
        gv.push(d);
        pv.push(e);
      }
    }
    if (gv.length === 0) {
      throw new KoraError<MetricsErrorCode>({
        code: "NO_VALID_PIXELS",
        message: `${gName} has no pixel with depth in (${minDepth}, ${maxDepth}) inside the crop`,
        path: gName,
      });
    }
    const gArr = Float64Array.from(gv);
    const pArr = Float64Array.from(pv);
    if (options.medianScaling) {
      const ratio = median(gArr) / median(pArr);
      if (!Number.isFinite(ratio) || !(ratio > 0)) {
        throw new KoraError<MetricsErrorCode>({
          code: "NON_POSITIVE_DEPTH",
          message: `median scaling of ${pName} is undefined: median(gt) / median(pred) = ${ratio}`,
          path: pName,
        });
      }
      for (let i = 0; i < pArr.length; i++) pArr[i]! *= ratio;
    }
    for (let i = 0; i < pArr.length; i++) {
      if (clamp) pArr[i] = Math.min(maxDepth, Math.max(minDepth, pArr[i]!));
      else if (!(pArr[i]! > 0)) {
        throw new KoraError<MetricsErrorCode>({
          code: "NON_POSITIVE_DEPTH",
          message: `${pName} has a non-positive depth ${pArr[i]} at a valid pixel and clampPrediction is off`,
          path: pName,
        });
      }
    }
    const m = imageMetrics(pArr, gArr);
    for (const k of KEYS) totals[k] += m[k];
  });
  const out = { images: preds.length } as DepthMetrics;
  for (const k of KEYS) out[k] = totals[k] / preds.length;
  return out;
}

function cropBox(crop: "none" | "eigen" | CropBox, rows: number, cols: number): CropBox {
  if (crop === "none") return { top: 0, bottom: rows, left: 0, right: cols };
  if (crop === "eigen") {
    if (rows !== 480 || cols !== 640) {
      throw new KoraError<MetricsErrorCode>({
        code: "SHAPE_MISMATCH",
        message: `the Eigen crop is defined for 480 × 640 NYU images, got ${rows} × ${cols}; pass an explicit crop box`,
        path: "options.crop",
      });
    }
    return EIGEN_CROP;
  }
  const { top, bottom, left, right } = crop ?? ({} as CropBox);
  const ok = [top, bottom, left, right].every((v) => Number.isInteger(v));
  if (!ok || top < 0 || left < 0 || bottom > rows || right > cols || top >= bottom || left >= right) {
    throw new KoraError<MetricsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `options.crop must be "none", "eigen" or integers 0 <= top < bottom <= ${rows}, 0 <= left < right <= ${cols}`,
      path: "options.crop",
    });
  }
  return { top, bottom, left, right };
}

function imageMetrics(p: Float64Array, g: Float64Array): Omit<DepthMetrics, "images"> {
  const n = p.length;
  let sq = 0;
  let absRel = 0;
  let sqRel = 0;
  let sqLog = 0;
  let log10 = 0;
  let d1 = 0;
  let d2 = 0;
  let d3 = 0;
  let e1 = 0;
  let e2 = 0;
  for (let i = 0; i < n; i++) {
    const gi = g[i]!;
    const pi = p[i]!;
    const diff = gi - pi;
    sq += diff * diff;
    absRel += Math.abs(diff) / gi;
    sqRel += (diff * diff) / gi;
    const logDiff = Math.log(pi) - Math.log(gi);
    sqLog += logDiff * logDiff;
    e1 += logDiff;
    e2 += logDiff * logDiff;
    log10 += Math.abs(Math.log10(gi) - Math.log10(pi));
    const ratio = Math.max(gi / pi, pi / gi);
    if (ratio < 1.25) d1++;
    if (ratio < 1.25 ** 2) d2++;
    if (ratio < 1.25 ** 3) d3++;
  }
  const meanE = e1 / n;
  return {
    rmse: Math.sqrt(sq / n),
    absRel: absRel / n,
    sqRel: sqRel / n,
    rmseLog: Math.sqrt(sqLog / n),
    log10: log10 / n,
    delta1: d1 / n,
    delta2: d2 / n,
    delta3: d3 / n,
    silog: 100 * Math.sqrt(Math.max(0, e2 / n - meanE * meanE)),
  };
}
