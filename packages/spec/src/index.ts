export type { KoraErrorCode, KoraErrorOptions } from "./errors";
export { KoraError } from "./errors";
