import { KoraError } from "@kora/spec";

/**
 * Every code a `KoraError` thrown by `@kora/finetune` itself carries (errors of the packages it calls pass through
 * with their own codes).
 */
export type FinetuneErrorCode =
  /** An option is out of range or of the wrong kind; `path` names it. */
  | "INVALID_ARGUMENT"
  /** The dataset's task, classes or the model's head do not fit the task. */
  | "TASK_MISMATCH"
  /** A model folder lacks a file its contents need, or a tensor is missing or has the wrong shape. */
  | "INVALID_MODEL_FILE";

/** A `KoraError` with one of this package's codes; `path` names the option or file at fault. */
export function finetuneError(code: FinetuneErrorCode, message: string, path?: string): KoraError {
  return new KoraError({ code, message, ...(path === undefined ? {} : { path }) });
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
