import { KoraError } from "@kora/spec";

/** Error codes of the queue commands (with `INVALID_ARGUMENT` for bad flags). */
export type QueueErrorCode =
  | "INVALID_ARGUMENT"
  | "QUEUE_UNREACHABLE"
  | "PLAN_NOT_FOUND"
  | "PLAN_MISMATCH"
  | "PLAN_INCOMPLETE"
  | "SOURCE_MISSING"
  | "STORE_BUSY";

/** A `KoraError` of the queue commands; `path` names the flag at fault. */
export function queueError(code: QueueErrorCode, message: string, path?: string): KoraError<QueueErrorCode> {
  return new KoraError<QueueErrorCode>({ code, message, ...(path === undefined ? {} : { path }) });
}
