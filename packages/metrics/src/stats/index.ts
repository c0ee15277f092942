export { holm } from "./holm";
export type { PairedComparison, PairedComparisonOptions } from "./paired-comparison";
export { pairedComparison } from "./paired-comparison";
export type { PairedVerdict, PairedVerdictOptions, Verdict } from "./paired-verdict";
export { pairedVerdict } from "./paired-verdict";
export { studentTCdf, studentTQuantile } from "./student-t";
