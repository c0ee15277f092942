/**
 * The error codes `@kora/tfjs` throws (always inside a `KoraError` from `@kora/spec`); {@link TfjsErrorCode} is
 * their union. The README's "Error codes" table says when each is thrown, and a test keeps the sources, this list
 * and the table in step. Errors from `@kora/spec` (reading adapter folders, parsing specs) pass through with
 * their own codes (`SpecErrorCode`).
 */
export const TFJS_ERROR_CODES = [
  "ADAPTERS_REMOVED",
  "ADAPTER_CONFLICT",
  "ADAPTER_EXISTS",
  "ADAPTER_MERGED",
  "ADAPTER_NOT_FOUND",
  "BACKEND_UNAVAILABLE",
  "CHECKPOINT_CORRUPT",
  "CHECKPOINT_EXISTS",
  "CHECKPOINT_MISMATCH",
  "DISK_FULL",
  "EMPTY_DATA",
  "FILE_NOT_FOUND",
  "INVALID_ARGUMENT",
  "INVALID_CHECKPOINT",
  "INVALID_MODEL_FILE",
  "INVALID_SPEC",
  "IO_ERROR",
  "NON_FINITE",
  "NOT_MERGEABLE",
  "NO_TRAINABLE_VARIABLES",
  "OUT_OF_MEMORY",
  "SHAPE_MISMATCH",
  "SPEC_MISMATCH",
] as const;

/** A code `@kora/tfjs` throws (see {@link TFJS_ERROR_CODES}). */
export type TfjsErrorCode = (typeof TFJS_ERROR_CODES)[number];
