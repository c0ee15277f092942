const MARKER = Symbol.for("kora.error");

/**
 * The machine-readable error codes `@kora/metrics` throws ({@link MetricsErrorCode} is their union).
 *
 * - `SHAPE_MISMATCH` — row counts differ between paired inputs, `data.length !== rows * cols`, a ragged
 *   `number[][]`, a non-square kernel matrix, image sizes that disagree, or per-seed values of unequal length.
 * - `INVALID_ARGUMENT` — an option or argument outside its domain (e.g. `threshold <= 0`, `k < 1`,
 *   degrees of freedom ≤ 0, a probability outside (0, 1)).
 * - `NON_FINITE` — an input value is `NaN` or `±Infinity`.
 * - `TOO_FEW_EXAMPLES` — fewer examples than the estimator needs (2 for biased CKA/HSIC, 4 for the
 *   unbiased/debiased estimators and minibatches, 1 for classification metrics and paired comparisons), or no batch accumulated yet.
 * - `CONSTANT_FEATURES` — a representation whose rows are all identical (zero variance), so CKA is 0/0.
 * - `ZERO_MEDIAN_DISTANCE` — the median squared distance used for the RBF bandwidth is 0 (more than half of
 *   the pairs of examples coincide), so the bandwidth would be 0.
 * - `NON_POSITIVE_ESTIMATE` — an unbiased/debiased self-similarity estimate is ≤ 0, so the CKA normaliser
 *   √(HSIC(K,K)·HSIC(L,L)) is undefined.
 * - `UNEQUAL_BATCH` — a minibatch whose size differs from the first batch (with `unequalBatch: "error"`).
 * - `NO_VALID_PIXELS` — a depth image with no ground-truth pixel inside (minDepth, maxDepth) after cropping.
 * - `NON_POSITIVE_DEPTH` — a predicted depth ≤ 0 at a valid pixel while `clampPrediction` is off.
 *
 * Each is in the README's "Error codes" table; a test fails when the sources throw a code missing from either.
 */
export const METRICS_ERROR_CODES = [
  "SHAPE_MISMATCH",
  "INVALID_ARGUMENT",
  "NON_FINITE",
  "TOO_FEW_EXAMPLES",
  "CONSTANT_FEATURES",
  "ZERO_MEDIAN_DISTANCE",
  "NON_POSITIVE_ESTIMATE",
  "UNEQUAL_BATCH",
  "NO_VALID_PIXELS",
  "NON_POSITIVE_DEPTH",
] as const;

/** A code `@kora/metrics` throws (see {@link METRICS_ERROR_CODES}). */
export type MetricsErrorCode = (typeof METRICS_ERROR_CODES)[number];

/** Any KoRA-TS error code: open, so that codes of the other KoRA-TS packages are assignable. */
export type KoraErrorCode = MetricsErrorCode | (string & {});

/** Options accepted by the {@link KoraError} constructor. */
export interface KoraErrorOptions<Code extends string = KoraErrorCode> {
  /** Stable, machine-readable code, e.g. `"CONSTANT_FEATURES"`. */
  code: Code;
  /** Human-readable message naming the argument and what was expected. */
  message: string;
  /** Name or dotted path of the offending argument (`"x"`, `"options.threshold"`, `"a[3]"`), if any. */
  path?: string;
  /** The underlying error, if this one wraps another. */
  cause?: unknown;
}

/**
 * The error class of KoRA-TS, defined here again so that `@kora/metrics` keeps zero runtime dependencies.
 *
 * It is interchangeable with `KoraError` from `@kora/spec`: both set the same `Symbol.for("kora.error")`
 * marker, so `KoraError.isInstance` from either package recognises errors thrown by both. Use `isInstance`
 * rather than `instanceof`.
 *
 * @example
 * ```ts
 * try { linearCKA(x, y) } catch (e) { if (KoraError.isInstance(e) && e.code === "CONSTANT_FEATURES") ... }
 * ```
 */
export class KoraError<Code extends string = KoraErrorCode> extends Error {
  /** Stable, machine-readable code. */
  readonly code: Code;
  /** Name or dotted path of the offending argument, when there is one. */
  readonly path: string | undefined;
  constructor(options: KoraErrorOptions<Code>) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "KoraError";
    this.code = options.code;
    this.path = options.path;
    Object.defineProperty(this, MARKER, { value: true, enumerable: false });
  }

  /** True when `error` is a KoraError from any installed copy of any KoRA-TS package. */
  static isInstance(error: unknown): error is KoraError {
    return (
      typeof error === "object" &&
      error !== null &&
      (error as Record<symbol, unknown>)[MARKER] === true &&
      typeof (error as { code?: unknown }).code === "string"
    );
  }
}
