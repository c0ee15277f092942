export type { TopKAccuracyOptions } from "./accuracy";
export { accuracy, topKAccuracy } from "./accuracy";
export type {
  ClassificationReport,
  ClassificationReportClassRow,
  ClassificationReportOptions,
  ClassificationReportRow,
} from "./classification-report";
export { classificationReport } from "./classification-report";
export type { ConfusionMatrix, ConfusionMatrixOptions } from "./confusion-matrix";
export { confusionMatrix } from "./confusion-matrix";
export type { Average, F1ScoreOptions, PrecisionRecallF1Support } from "./f1-score";
export { f1Score, precisionRecallF1Support } from "./f1-score";
export type { Label, LabelArray } from "./labels";
