export type { KoraErrorCode, KoraErrorOptions, MetricsErrorCode } from "./kora-error";
export { KoraError, METRICS_ERROR_CODES } from "./kora-error";
