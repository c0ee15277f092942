import { KoraError } from "@kora/spec";
import type { VitErrorCode } from "../errors";

/** PyTorch's cubic-convolution constant (`A = −0.75`, as in `F.interpolate(mode="bicubic")`). */
const A = -0.75;

function cubicNear(x: number): number {
  return ((A + 2) * x - (A + 3)) * x * x + 1;
}

function cubicFar(x: number): number {
  return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
}

/** Options of {@link resizeBicubic}. */
export interface ResizeBicubicOptions {
  /** PyTorch's `align_corners`. Default false (what timm and Hugging Face use for position embeddings). */
  alignCorners?: boolean;
}

/** For each output index: the 4 clamped source indices and their weights along one axis. */
function axisTaps(
  inSize: number,
  outSize: number,
  alignCorners: boolean,
): { index: Int32Array; weight: Float64Array } {
  const index = new Int32Array(outSize * 4);
  const weight = new Float64Array(outSize * 4);
  const scale = alignCorners ? (outSize > 1 ? (inSize - 1) / (outSize - 1) : 0) : inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    // PyTorch's area_pixel_compute_source_index with cubic = true: no clamping of negative coordinates.
    const source = alignCorners ? scale * o : scale * (o + 0.5) - 0.5;
    const base = Math.floor(source);
    const t = source - base;
    const w = [cubicFar(t + 1), cubicNear(t), cubicNear(1 - t), cubicFar(2 - t)];
    for (let k = 0; k < 4; k++) {
      index[o * 4 + k] = Math.min(Math.max(base - 1 + k, 0), inSize - 1);
      weight[o * 4 + k] = w[k] as number;
    }
  }
  return { index, weight };
}

/**
 * Bicubic resize of a channels-last grid `[height, width, channels]` (row-major), matching PyTorch's
 * `F.interpolate(x, size=(outHeight, outWidth), mode="bicubic", align_corners=False)` — cubic convolution with
 * `A = −0.75`, source coordinate `(o + 0.5) · in/out − 0.5`, border taps clamped, no antialiasing. tfjs has no
 * bicubic resize. Accumulates in float64 (PyTorch accumulates float32 inputs in float32: the two agree to float32
 * rounding) and returns float32.
 */
export function resizeBicubic(
  data: Float32Array | Float64Array,
  shape: readonly [height: number, width: number, channels: number],
  outHeight: number,
  outWidth: number,
  options: ResizeBicubicOptions = {},
): Float32Array {
  const [height, width, channels] = shape;
  if (data.length !== height * width * channels) {
    throw new KoraError<VitErrorCode>({
      code: "SHAPE_MISMATCH",
      message: `resizeBicubic: data has ${data.length} elements, shape [${shape.join(", ")}] needs ${height * width * channels}`,
    });
  }
  for (const [label, value] of [
    ["outHeight", outHeight],
    ["outWidth", outWidth],
    ["height", height],
    ["width", width],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new KoraError<VitErrorCode>({
        code: "INVALID_ARGUMENT",
        message: `resizeBicubic: ${label} must be an integer ≥ 1, got ${value}`,
      });
    }
  }
  const alignCorners = options.alignCorners ?? false;
  const columns = axisTaps(width, outWidth, alignCorners);
  const rows = axisTaps(height, outHeight, alignCorners);
  // Along the width first: [height, outWidth, channels].
  const horizontal = new Float64Array(height * outWidth * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < outWidth; x++) {
      const out = (y * outWidth + x) * channels;
      for (let k = 0; k < 4; k++) {
        const w = columns.weight[x * 4 + k] as number;
        const src = (y * width + (columns.index[x * 4 + k] as number)) * channels;
        for (let c = 0; c < channels; c++) {
          horizontal[out + c] = (horizontal[out + c] as number) + w * (data[src + c] as number);
        }
      }
    }
  }
  const result = new Float64Array(outHeight * outWidth * channels);
  for (let y = 0; y < outHeight; y++) {
    for (let k = 0; k < 4; k++) {
      const w = rows.weight[y * 4 + k] as number;
      const srcRow = (rows.index[y * 4 + k] as number) * outWidth * channels;
      const outRow = y * outWidth * channels;
      for (let i = 0; i < outWidth * channels; i++) {
        result[outRow + i] = (result[outRow + i] as number) + w * (horizontal[srcRow + i] as number);
      }
    }
  }
  return Float32Array.from(result);
}

/** Options of {@link resamplePositionEmbeddings}. */
export interface ResamplePositionEmbeddingsOptions extends ResizeBicubicOptions {
  /** Hidden size D. */
  dim: number;
  /** Source patch grid: side of a square grid or `[rows, columns]`. */
  fromGrid: number | readonly [number, number];
  /** Target patch grid: side of a square grid or `[rows, columns]`. */
  toGrid: number | readonly [number, number];
  /** Leading tokens that are not on the grid (CLS), copied unchanged. Default 1. */
  prefixTokens?: number;
}

/**
 * Resamples learned position embeddings `[prefix + rows·columns, D]` (row-major, CLS first) to another patch grid,
 * as timm's `resample_abs_pos_embed` and Hugging Face's `interpolate_pos_encoding` do: the prefix tokens are kept,
 * the grid is resized bicubically ({@link resizeBicubic}). Use it to run a checkpoint at another image size.
 * (timm passes `antialias=True`, which only changes the result when shrinking the grid; this never antialiases.)
 */
export function resamplePositionEmbeddings(
  data: Float32Array,
  options: ResamplePositionEmbeddingsOptions,
): Float32Array {
  const { dim } = options;
  const prefix = options.prefixTokens ?? 1;
  const [fromRows, fromColumns] =
    typeof options.fromGrid === "number" ? [options.fromGrid, options.fromGrid] : options.fromGrid;
  const [toRows, toColumns] =
    typeof options.toGrid === "number" ? [options.toGrid, options.toGrid] : options.toGrid;
  const expected = (prefix + fromRows * fromColumns) * dim;
  if (data.length !== expected) {
    throw new KoraError<VitErrorCode>({
      code: "SHAPE_MISMATCH",
      message: `position embeddings have ${data.length} elements; ${prefix} prefix tokens + a ${fromRows}×${fromColumns} grid of ${dim} need ${expected}`,
    });
  }
  const resized = resizeBicubic(
    data.subarray(prefix * dim),
    [fromRows, fromColumns, dim],
    toRows,
    toColumns,
    options,
  );
  const out = new Float32Array((prefix + toRows * toColumns) * dim);
  out.set(data.subarray(0, prefix * dim));
  out.set(resized, prefix * dim);
  return out;
}
