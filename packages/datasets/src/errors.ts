import { KoraError } from "@kora/spec";

/**
 * The error codes `@kora/datasets` throws (always inside a {@link KoraError}); {@link DatasetErrorCode} is their
 * union, and the README's "Error codes" table describes each (a test keeps the three in step).
 *
 * - `DATASET_NOT_FOUND`: a dataset root or one of its files is missing; the message says what and where to get it.
 * - `INVALID_DATASET_FILE`: a file exists but is not in the expected format, or its counts differ from the
 *   official ones; the message names the file.
 * - `UNKNOWN_DATASET`: a name not in the registry.
 * - `INVALID_ARGUMENT`: a bad option or index.
 * - `MISSING_DEPENDENCY`: a feature needs an optional peer dependency that is not installed (h5wasm for `.mat`
 *   files); the message names the package and the command that installs it.
 * - `LIMIT_EXCEEDED`: a file declares (or decompresses to) more than a `DatasetLimits` cap allows; checked
 *   before the memory is allocated. The message names the file and the limit to raise if the file is genuine.
 */
export const DATASET_ERROR_CODES = [
  "DATASET_NOT_FOUND",
  "INVALID_DATASET_FILE",
  "UNKNOWN_DATASET",
  "INVALID_ARGUMENT",
  "MISSING_DEPENDENCY",
  "LIMIT_EXCEEDED",
] as const;

/** A code `@kora/datasets` throws (see {@link DATASET_ERROR_CODES}). */
export type DatasetErrorCode = (typeof DATASET_ERROR_CODES)[number];

/** @internal Builds the {@link KoraError} every module of this package throws. */
export function datasetError(
  code: DatasetErrorCode,
  message: string,
  path?: string,
  cause?: unknown,
): KoraError<DatasetErrorCode> {
  return new KoraError<DatasetErrorCode>({
    code,
    message,
    ...(path === undefined ? {} : { path }),
    ...(cause === undefined ? {} : { cause }),
  });
}

/** @internal Throws `INVALID_ARGUMENT` unless `value` is an integer in `[min, max]`. */
export function checkInteger(value: number, name: string, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw datasetError(
      "INVALID_ARGUMENT",
      `${name} must be an integer in [${min}, ${max}], got ${String(value)}`,
      name,
    );
  }
}

/** @internal Throws `INVALID_ARGUMENT` when `index` is not a valid item index of a dataset of `size` items. */
export function checkIndex(index: number, size: number, name: string): void {
  if (!Number.isInteger(index) || index < 0 || index >= size) {
    throw datasetError(
      "INVALID_ARGUMENT",
      `${name}: index ${String(index)} out of range [0, ${size})`,
      "index",
    );
  }
}
