export type { SingularValuesOptions } from "./singular-values";
export { effectiveRank, lowRankSingularValues, singularValues, stableRank } from "./singular-values";
