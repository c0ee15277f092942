import { KoraError } from "../errors";
import type { MetricsErrorCode } from "../errors/kora-error";

/**
 * A dense row-major matrix. For representations, rows are examples and columns are features.
 *
 * `data[r * cols + c]` is the entry in row `r`, column `c`; `data.length` must equal `rows * cols`.
 */
export interface Matrix {
  /** Number of rows (examples). */
  readonly rows: number;
  /** Number of columns (features). */
  readonly cols: number;
  /** Row-major values; float32 inputs are widened to float64 before any arithmetic. */
  readonly data: Float32Array | Float64Array | readonly number[];
}

/** Anything the metrics accept as a matrix: a {@link Matrix} or an array of equal-length rows. */
export type MatrixLike = Matrix | readonly (readonly number[])[];

/** A validated float64 copy of an input matrix. @internal */
export interface DenseMatrix {
  rows: number;
  cols: number;
  data: Float64Array;
}

function isMatrix(value: MatrixLike): value is Matrix {
  return !Array.isArray(value);
}

/** A shape-checked input, its values not yet copied or checked for finiteness. @internal */
export interface SourceMatrix {
  rows: number;
  cols: number;
  data: Float32Array | Float64Array | readonly number[];
}

/**
 * Checks an input's shape and returns its values without copying a {@link Matrix}'s data (a `number[][]` is
 * flattened into a Float64Array). Finiteness is the caller's to check (see {@link nonFinite}). @internal
 */
export function toSource(value: MatrixLike, name: string): SourceMatrix {
  if (value === null || typeof value !== "object") {
    throw new KoraError<MetricsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `${name} must be a Matrix { rows, cols, data } or a number[][], got ${value === null ? "null" : typeof value}`,
      path: name,
    });
  }
  if (isMatrix(value)) {
    const { rows, cols } = value;
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
      throw new KoraError<MetricsErrorCode>({
        code: "INVALID_ARGUMENT",
        message: `${name}.rows and ${name}.cols must be non-negative integers, got ${rows} and ${cols}`,
        path: name,
      });
    }
    if (value.data === undefined || value.data.length !== rows * cols) {
      throw new KoraError<MetricsErrorCode>({
        code: "SHAPE_MISMATCH",
        message: `${name}.data must hold rows * cols = ${rows * cols} values, got ${value.data?.length}`,
        path: `${name}.data`,
      });
    }
    return { rows, cols, data: value.data };
  }
  const rows = value.length;
  const cols = rows === 0 ? 0 : (value[0]?.length ?? 0);
  const data = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const row = value[r];
    if (!Array.isArray(row) || row.length !== cols) {
      throw new KoraError<MetricsErrorCode>({
        code: "SHAPE_MISMATCH",
        message: `${name}[${r}] must be an array of ${cols} numbers (the length of ${name}[0]), got ${Array.isArray(row) ? row.length : typeof row}`,
        path: `${name}[${r}]`,
      });
    }
    for (let c = 0; c < cols; c++) data[r * cols + c] = row[c] as number;
  }
  return { rows, cols, data };
}

/** The NON_FINITE error for the value at flat index `i` of a matrix with `cols` columns. @internal */
export function nonFinite(name: string, value: number, i: number, cols: number): KoraError {
  const r = Math.floor(i / cols);
  return new KoraError<MetricsErrorCode>({
    code: "NON_FINITE",
    message: `${name} holds a non-finite value (${value}) at row ${r}, column ${i - r * cols}`,
    path: name,
  });
}

/** Converts and validates an input into a fresh row-major Float64Array (finite values, consistent shape). @internal */
export function toDense(value: MatrixLike, name: string): DenseMatrix {
  const source = toSource(value, name);
  const { rows, cols } = source;
  // The typed-array constructor copies (and widens float32) far faster than Float64Array.from's iteration.
  const data = ArrayBuffer.isView(source.data)
    ? new Float64Array(source.data)
    : Float64Array.from(source.data as readonly number[]);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw nonFinite(name, data[i]!, i, cols);
  }
  return { rows, cols, data };
}

/**
 * Subtracts each column's mean in place. Means are computed in a first float64 pass and subtracted in a
 * second, so large offsets (features of mean 1e3 stored as float32) keep full float64 accuracy.
 * Returns true when every row was identical before centring (a constant representation); the data is then
 * set exactly to zero. @internal
 */
export function centerColumns(m: DenseMatrix): boolean {
  const { rows, cols, data } = m;
  let constant = true;
  for (let i = cols; i < rows * cols && constant; i++) {
    if (data[i] !== data[i % cols]) constant = false;
  }
  if (constant) {
    data.fill(0);
    return true;
  }
  const means = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const off = r * cols;
    for (let c = 0; c < cols; c++) means[c]! += data[off + c]!;
  }
  for (let c = 0; c < cols; c++) means[c]! /= rows;
  for (let r = 0; r < rows; r++) {
    const off = r * cols;
    for (let c = 0; c < cols; c++) data[off + c]! -= means[c]!;
  }
  return false;
}

/** Throws SHAPE_MISMATCH unless every matrix has the same number of rows. @internal */
export function assertSameRows(items: readonly { rows: number; name: string }[]): void {
  const first = items[0];
  if (first === undefined) return;
  for (const item of items) {
    if (item.rows !== first.rows) {
      throw new KoraError<MetricsErrorCode>({
        code: "SHAPE_MISMATCH",
        message: `${first.name} and ${item.name} must have the same number of rows (examples), got ${first.rows} and ${item.rows}`,
        path: item.name,
      });
    }
  }
}

/** Throws TOO_FEW_EXAMPLES when `rows < minimum`. @internal */
export function assertMinRows(rows: number, minimum: number, what: string, name: string): void {
  if (rows < minimum) {
    throw new KoraError<MetricsErrorCode>({
      code: "TOO_FEW_EXAMPLES",
      message: `${what} needs at least ${minimum} examples (rows), ${name} has ${rows}`,
      path: name,
    });
  }
}
