/**
 * The error codes `@kora/vit` throws (always inside a `KoraError` from `@kora/spec`); {@link VitErrorCode} is their
 * union. The README's "Error codes" table says when each is thrown, and a test keeps the sources, this list and the
 * table in step. Decoding safetensors and adapters passes `@kora/spec`'s errors through with their own codes.
 */
export const VIT_ERROR_CODES = [
  "FILE_NOT_FOUND",
  "INVALID_ARGUMENT",
  "INVALID_CONFIG",
  "IO_ERROR",
  "SHAPE_MISMATCH",
  "WEIGHTS_MISMATCH",
] as const;

/** A code `@kora/vit` throws (see {@link VIT_ERROR_CODES}). */
export type VitErrorCode = (typeof VIT_ERROR_CODES)[number];
