export type {
  CKAMatrixOptions,
  HsicOptions,
  LinearCKAAsyncOptions,
  LinearCKAOptions,
  MinibatchCKAOptions,
  RbfCKAOptions,
} from "./cka";
export { ckaMatrix, hsic, linearCKA, linearCKAAsync, MinibatchCKA, rbfCKA } from "./cka";
export type {
  Average,
  ClassificationReport,
  ClassificationReportClassRow,
  ClassificationReportOptions,
  ClassificationReportRow,
  ConfusionMatrix,
  ConfusionMatrixOptions,
  F1ScoreOptions,
  Label,
  LabelArray,
  PrecisionRecallF1Support,
  TopKAccuracyOptions,
} from "./classification";
export {
  accuracy,
  classificationReport,
  confusionMatrix,
  f1Score,
  precisionRecallF1Support,
  topKAccuracy,
} from "./classification";
export type { CropBox, DepthMetrics, DepthMetricsOptions } from "./depth";
export { depthMetrics } from "./depth";
export type { KoraErrorCode, KoraErrorOptions, MetricsErrorCode } from "./errors";
export { KoraError, METRICS_ERROR_CODES } from "./errors";
export type { ColorScaleName, HeatmapSvgOptions } from "./heatmap";
export { heatmapSvg } from "./heatmap";
export { ckaKernel } from "./linalg";
export type { Matrix, MatrixLike } from "./matrix";
export type { SegmentationMetrics, SegmentationMetricsOptions } from "./segmentation";
export { segmentationMetrics } from "./segmentation";
export type { SingularValuesOptions } from "./spectrum";
export { effectiveRank, lowRankSingularValues, singularValues, stableRank } from "./spectrum";
export type {
  PairedComparison,
  PairedComparisonOptions,
  PairedVerdict,
  PairedVerdictOptions,
  Verdict,
} from "./stats";
export { holm, pairedComparison, pairedVerdict, studentTCdf, studentTQuantile } from "./stats";
export type { CKAWorkerPoolOptions } from "./workers";
export { CKAWorkerPool } from "./workers";
