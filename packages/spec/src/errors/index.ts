export type { KoraErrorCode, KoraErrorOptions, SpecErrorCode } from "./kora-error";
export { KoraError, SPEC_ERROR_CODES } from "./kora-error";
