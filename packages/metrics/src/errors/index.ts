export type { KoraErrorCode, KoraErrorOptions } from "./kora-error";
export { KoraError } from "./kora-error";
