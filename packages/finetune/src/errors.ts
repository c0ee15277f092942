import { KoraError } from "@kora/spec";

/**
 * The error codes `@kora/finetune` itself throws (always inside a `KoraError` from `@kora/spec`); the packages it
 * calls pass their errors through with their own codes. The README's "Error codes" table says when each is
 * thrown, and a test keeps the sources, this list and the table in step.
 */
export const FINETUNE_ERROR_CODES = ["INVALID_ARGUMENT", "TASK_MISMATCH", "INVALID_MODEL_FILE"] as const;

/** A code `@kora/finetune` throws (see {@link FINETUNE_ERROR_CODES}). */
export type FinetuneErrorCode = (typeof FINETUNE_ERROR_CODES)[number];

/** A `KoraError` with one of this package's codes; `path` names the option or file at fault. */
export function finetuneError(
  code: FinetuneErrorCode,
  message: string,
  path?: string,
  cause?: unknown,
): KoraError<FinetuneErrorCode> {
  return new KoraError<FinetuneErrorCode>({
    code,
    message,
    ...(path === undefined ? {} : { path }),
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Throws `INVALID_ARGUMENT` unless `value` is an integer in `[min, max]`. */
export function checkInteger(value: number, path: string, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!(Number.isInteger(value) && value >= min && value <= max)) {
    throw finetuneError(
      "INVALID_ARGUMENT",
      `${path} must be an integer in [${min}, ${max === Number.MAX_SAFE_INTEGER ? "∞" : max}], got ${value}`,
      path,
    );
  }
}
