import { KoraError } from "../errors";
import type { MetricsErrorCode } from "../errors/kora-error";
import { type DenseMatrix, type MatrixLike, toDense } from "../matrix";

/** Options of {@link singularValues}. */
export interface SingularValuesOptions {
  /**
   * Most Jacobi sweeps (default 60). Each sweep costs O(rows · cols · min(rows, cols)); one-sided Jacobi
   * converges quadratically, so well-conditioned matrices need 6–10. The values are returned after the last
   * sweep even when the tolerance was not reached.
   */
  maxSweeps?: number;
}

/** Column-major copy of `m`, transposed when that makes the columns the shorter side (fewer pairs to rotate). */
function columnsOf(m: DenseMatrix): { length: number; count: number; columns: Float64Array[] } {
  const transpose = m.cols > m.rows;
  const count = transpose ? m.rows : m.cols;
  const length = transpose ? m.cols : m.rows;
  const columns = Array.from({ length: count }, () => new Float64Array(length));
  for (let r = 0; r < m.rows; r++) {
    for (let c = 0; c < m.cols; c++) {
      const value = m.data[r * m.cols + c] as number;
      if (transpose) (columns[r] as Float64Array)[c] = value;
      else (columns[c] as Float64Array)[r] = value;
    }
  }
  return { length, count, columns };
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}

/**
 * The singular values of a matrix, largest first (`min(rows, cols)` of them), by one-sided Jacobi (Hestenes):
 * pairs of columns are rotated until every pair is orthogonal to machine precision, and the column norms are then
 * the singular values — accurate to a few ulps relative to the largest, small ones included. Float64 throughout.
 *
 * For a product of low-rank factors (LoRA's `B·A`), {@link lowRankSingularValues} is far cheaper.
 *
 * @throws KoraError `NON_FINITE` for a non-finite entry, `SHAPE_MISMATCH` / `INVALID_ARGUMENT` for a malformed
 * matrix or option.
 */
export function singularValues(matrix: MatrixLike, options: SingularValuesOptions = {}): Float64Array {
  const maxSweeps = options.maxSweeps ?? 60;
  if (!Number.isInteger(maxSweeps) || maxSweeps < 1) {
    throw new KoraError<MetricsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `options.maxSweeps must be a positive integer, got ${maxSweeps}`,
      path: "options.maxSweeps",
    });
  }
  return jacobiSingularValues(toDense(matrix, "matrix"), maxSweeps);
}

function jacobiSingularValues(m: DenseMatrix, maxSweeps: number): Float64Array {
  const { count, columns } = columnsOf(m);
  const norms = columns.map((c) => dot(c, c));
  const eps = 2.220446049250313e-16;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let rotated = false;
    for (let i = 0; i < count - 1; i++) {
      for (let j = i + 1; j < count; j++) {
        const a = columns[i] as Float64Array;
        const b = columns[j] as Float64Array;
        const alpha = norms[i] as number;
        const beta = norms[j] as number;
        const gamma = dot(a, b);
        if (gamma === 0 || Math.abs(gamma) <= eps * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        // The rotation that zeroes the pair's inner product (Golub & Van Loan's symmetric Schur step).
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let k = 0; k < a.length; k++) {
          const x = a[k] as number;
          const y = b[k] as number;
          a[k] = c * x - s * y;
          b[k] = s * x + c * y;
        }
        norms[i] = dot(a, a);
        norms[j] = dot(b, b);
      }
    }
    if (!rotated) break;
  }
  return Float64Array.from(norms.map(Math.sqrt)).sort().reverse();
}

/** Thin QR of an n×r column set by modified Gram–Schmidt applied twice; returns R (r×r, row-major). */
function triangularFactor(columns: Float64Array[]): Float64Array {
  const r = columns.length;
  const R = new Float64Array(r * r);
  const q = columns.map((c) => Float64Array.from(c));
  for (let j = 0; j < r; j++) {
    const v = q[j] as Float64Array;
    // Twice is enough (Kahan–Parlett): the second pass removes what rounding left of the first.
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < j; i++) {
        const u = q[i] as Float64Array;
        const projection = dot(u, v);
        R[i * r + j] = (R[i * r + j] as number) + projection;
        for (let k = 0; k < v.length; k++) v[k] = (v[k] as number) - projection * (u[k] as number);
      }
    }
    const norm = Math.sqrt(dot(v, v));
    R[j * r + j] = norm;
    // A dependent column leaves a zero column of Q and a zero on R's diagonal: R still reproduces the input.
    if (norm > 0) for (let k = 0; k < v.length; k++) v[k] = (v[k] as number) / norm;
  }
  return R;
}

/**
 * The singular values of the product `left · right` (`m×r` times `r×n`, as LoRA's `ΔW = B·A`), largest first, `r`
 * of them (zeros included), without forming the `m×n` product: with `left = Q₁R₁` and `rightᵀ = Q₂R₂`,
 * `left · right = Q₁(R₁R₂ᵀ)Q₂ᵀ`, so the product's singular values are those of the `r×r` core `R₁R₂ᵀ`. Costs
 * O((m + n)·r²) instead of O(m·n·min(m, n)).
 *
 * @throws KoraError `SHAPE_MISMATCH` when `left.cols ≠ right.rows`, `NON_FINITE` for a non-finite entry.
 */
export function lowRankSingularValues(left: MatrixLike, right: MatrixLike): Float64Array {
  const l = toDense(left, "left");
  const rt = toDense(right, "right");
  if (l.cols !== rt.rows) {
    throw new KoraError<MetricsErrorCode>({
      code: "SHAPE_MISMATCH",
      message: `left is ${l.rows}×${l.cols} and right is ${rt.rows}×${rt.cols}: left.cols must equal right.rows`,
      path: "right",
    });
  }
  const r = l.cols;
  const leftColumns = Array.from({ length: r }, (_, c) =>
    Float64Array.from({ length: l.rows }, (_, row) => l.data[row * r + c] as number),
  );
  const rightRows = Array.from({ length: r }, (_, row) => rt.data.slice(row * rt.cols, (row + 1) * rt.cols));
  const R1 = triangularFactor(leftColumns);
  const R2 = triangularFactor(rightRows);
  const core = new Float64Array(r * r);
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < r; j++) {
      let sum = 0;
      for (let k = 0; k < r; k++) sum += (R1[i * r + k] as number) * (R2[j * r + k] as number);
      core[i * r + j] = sum;
    }
  }
  return jacobiSingularValues({ rows: r, cols: r, data: core }, 60);
}

function checkSpectrum(values: ArrayLike<number>, name: string): Float64Array {
  const out = Float64Array.from(values);
  for (let i = 0; i < out.length; i++) {
    const v = out[i] as number;
    if (!Number.isFinite(v) || v < 0) {
      throw new KoraError<MetricsErrorCode>({
        code: v < 0 ? "INVALID_ARGUMENT" : "NON_FINITE",
        message: `${name}[${i}] must be a finite singular value ≥ 0, got ${v}`,
        path: `${name}[${i}]`,
      });
    }
  }
  return out;
}

/**
 * The effective rank of Roy & Vetterli (2007): `exp(H(p))`, the exponential of the Shannon entropy of the
 * normalised singular values `p_i = σ_i / Σσ`. Between 1 (one direction) and the number of non-zero values (all
 * equal); 0 for a zero matrix.
 *
 * @throws KoraError `INVALID_ARGUMENT` for a negative value, `NON_FINITE` for a non-finite one.
 */
export function effectiveRank(singularValues: ArrayLike<number>): number {
  const values = checkSpectrum(singularValues, "singularValues");
  const total = values.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  let entropy = 0;
  for (const v of values) if (v > 0) entropy -= (v / total) * Math.log(v / total);
  return Math.exp(entropy);
}

/**
 * The stable rank `‖W‖²_F / ‖W‖²₂ = Σσ² / σ²_max`: between 1 and the rank, insensitive to tiny singular values;
 * 0 for a zero matrix.
 *
 * @throws KoraError `INVALID_ARGUMENT` for a negative value, `NON_FINITE` for a non-finite one.
 */
export function stableRank(singularValues: ArrayLike<number>): number {
  const values = checkSpectrum(singularValues, "singularValues");
  const largest = values.reduce((a, b) => Math.max(a, b), 0);
  if (largest === 0) return 0;
  return values.reduce((sum, v) => sum + (v / largest) ** 2, 0);
}
