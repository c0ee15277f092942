export { KoraError } from "./errors";
export type { KoraErrorCode, KoraErrorOptions } from "./errors";
