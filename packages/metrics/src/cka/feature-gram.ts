import type { ColumnPart, ColumnsGram } from "../linalg";
import { nonFinite, type SourceMatrix } from "../matrix";
import { normalise } from "./gram";
import { constantFeatures } from "./linear-features";

/** What one pass over a representation gives: its column means and, for debiased CKA, row sums of squares. @internal */
export interface ColumnStats {
  means: Float64Array;
  /** True when every row equals the first (zero variance). */
  constant: boolean;
}

/**
 * One pass over the rows: finiteness (NON_FINITE naming row and column), column sums in float64 in row order
 * (the first of the two centring passes; the second subtracts while packing) and whether every row equals
 * the first. Reads the caller's array as it is: no float64 copy of the input is made. @internal
 */
export function columnStats(m: SourceMatrix, name: string): ColumnStats {
  const { rows, cols, data } = m;
  const sums = new Float64Array(cols);
  let constant = true;
  for (let r = 0; r < rows; r++) {
    const off = r * cols;
    for (let c = 0; c < cols; c++) {
      const v = data[off + c]!;
      if (!Number.isFinite(v)) throw nonFinite(name, v, off + c, cols);
      sums[c]! += v;
      if (constant && v !== data[c]) constant = false;
    }
  }
  for (let c = 0; c < cols; c++) sums[c]! /= rows;
  return { means: sums, constant };
}

/** Σ_f (x_if − μ_f)² per row i (the debiased estimator's `r_x`) and their total `‖X‖²_F`. @internal */
export function centredRowSquares(
  m: SourceMatrix,
  means: Float64Array,
): { rows: Float64Array; total: number } {
  const { rows, cols, data } = m;
  const out = new Float64Array(rows);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const off = r * cols;
    let s = 0;
    for (let c = 0; c < cols; c++) {
      const v = data[off + c]! - means[c]!;
      s += v * v;
    }
    out[r] = s;
    total += s;
  }
  return { rows: out, total };
}

/** The checked inputs of a feature-space linear CKA, ready to be packed. @internal */
export interface FeaturePlan {
  n: number;
  x: SourceMatrix;
  y: SourceMatrix;
  parts: [ColumnPart, ColumnPart];
}

/** Column statistics of both inputs, CONSTANT_FEATURES checked (after both inputs' NON_FINITE). @internal */
export function featurePlan(x: SourceMatrix, y: SourceMatrix): FeaturePlan {
  const sx = columnStats(x, "x");
  const sy = columnStats(y, "y");
  if (sx.constant) throw constantFeatures("x");
  if (sy.constant) throw constantFeatures("y");
  return {
    n: x.rows,
    x,
    y,
    parts: [
      { data: x.data, cols: x.cols, means: sx.means },
      { data: y.data, cols: y.cols, means: sy.means },
    ],
  };
}

/** Adds `b`'s product into `a` (partial products over disjoint rows sum to the whole). @internal */
export function addGram(a: ColumnsGram, b: ColumnsGram): ColumnsGram {
  for (let i = 0; i < a.c.length; i++) a.c[i]! += b.c[i]!;
  return a;
}

/**
 * Squared Frobenius norm of the block `[r0, r1) × [c0, c1)` of the symmetric `ZᵀZ` stored as upper 4×4 blocks;
 * blocks below the diagonal are read from their mirror. Bounds are panel-aligned.
 */
function blockNorm(g: ColumnsGram, r0: number, r1: number, c0: number, c1: number): number {
  const { c, ldc } = g;
  let sum = 0;
  for (let i = r0; i < r1; i++) {
    const bi = i >> 2;
    for (let j = c0; j < c1; j++) {
      const v = j >> 2 < bi ? c[j * ldc + i]! : c[i * ldc + j]!;
      sum += v * v;
    }
  }
  return sum;
}

/**
 * Linear CKA from the stacked product `[X Y]ᵀ[X Y]`: `‖YᵀX‖²_F / (‖XᵀX‖_F ‖YᵀY‖_F)`, or with `debiased` the
 * google-research debiased dot products. @internal
 */
export function ckaFromGram(plan: FeaturePlan, g: ColumnsGram, debiased: boolean): number {
  const ys = g.starts[1]!;
  const xty = blockNorm(g, 0, ys, ys, g.ldc);
  const xtx = blockNorm(g, 0, ys, 0, ys);
  const yty = blockNorm(g, ys, g.ldc, ys, g.ldc);
  if (!debiased) return normalise(xty, xtx, yty, "x", "y");
  const n = plan.n;
  const rx = centredRowSquares(plan.x, plan.parts[0].means!);
  const ry = centredRowSquares(plan.y, plan.parts[1].means!);
  const debias = (p: number, a: { rows: Float64Array; total: number }, b: typeof a): number => {
    let dot = 0;
    for (let i = 0; i < n; i++) dot += a.rows[i]! * b.rows[i]!;
    return p - (n / (n - 2)) * dot + (a.total * b.total) / ((n - 1) * (n - 2));
  };
  return normalise(debias(xty, rx, ry), debias(xtx, rx, rx), debias(yty, ry, ry), "x", "y", xtx, yty);
}
