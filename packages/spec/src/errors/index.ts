export { KoraError } from "./kora-error";
export type { KoraErrorCode, KoraErrorOptions } from "./kora-error";
