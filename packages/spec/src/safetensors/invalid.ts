import { KoraError } from "../errors";
import type { SpecErrorCode } from "../errors/kora-error";

/** @internal A `KoraError` with code `INVALID_SAFETENSORS`; `path` names the tensor or header field. */
export function invalidSafetensors(message: string, path?: string, cause?: unknown): KoraError {
  return new KoraError<SpecErrorCode>({
    code: "INVALID_SAFETENSORS",
    message: `Invalid safetensors file: ${message}`,
    ...(path === undefined ? {} : { path }),
    ...(cause === undefined ? {} : { cause }),
  });
}

/** @internal A `KoraError` with code `INVALID_ARGUMENT`, for bad input to `writeSafetensors`. */
export function invalidWriteInput(message: string, path?: string): KoraError {
  return new KoraError<SpecErrorCode>({
    code: "INVALID_ARGUMENT",
    message: `writeSafetensors: ${message}`,
    ...(path === undefined ? {} : { path }),
  });
}
