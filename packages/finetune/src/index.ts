/**
 * `@kora/finetune`: the fine-tuning workflow between the KoRA-TS packages and the apps — batches, tasks, training,
 * evaluation, CKA features, model folders and backbone initialisation.
 * @packageDocumentation
 */
export type {
  ClassificationTensorBatch,
  DepthTensorBatch,
  EpochPosition,
  SegmentationTensorBatch,
  TensorBatch,
  TensorBatchOptions,
} from "./batches";
export { batchOptionsFor, epochData, exampleCount, tensorBatches, toTensorBatch } from "./batches";
export type { FinetuneErrorCode } from "./errors";
export { FINETUNE_ERROR_CODES } from "./errors";
export type {
  ClassificationEvaluation,
  DepthEvaluation,
  EvaluateOptions,
  Evaluation,
  SegmentationEvaluation,
} from "./evaluate";
export { disposeTensors, evaluateTask } from "./evaluate";
export type { BlockFeaturesOptions } from "./features";
export { blockFeatures } from "./features";
export type { FinetuneOptions, FinetuneResult } from "./fit";
export { finetune, plannedSteps } from "./fit";
export type { GateValue } from "./gates";
export { gateValues, gateVariableNames } from "./gates";
export type { InitScheme } from "./init";
export { INIT_SCHEMES, initialiseWeights } from "./init";
export type { TrainableCount, TrainingMethod } from "./model";
export {
  ADAPTER_NAME,
  backboneChecksum,
  countTrainable,
  disposeModel,
  headSeed,
  modelVariables,
  prepareModel,
  trainableVariables,
} from "./model";
export type { ModelManifest } from "./model-files";
export { MODEL_FILES } from "./model-files";
export type { PixelProbe, PixelProbeOptions } from "./pixel-probe";
export { evaluatePixelProbe, trainPixelProbe } from "./pixel-probe";
export type { PretrainOptions, PretrainResult } from "./pretrain";
export { pretrain } from "./pretrain";
export type { ClassificationTask, ClassificationTaskOptions } from "./tasks/classification";
export { classificationTask } from "./tasks/classification";
export type { DepthTask, DepthTaskOptions, MedianDepthOptions } from "./tasks/depth";
export { depthTask, medianDepth } from "./tasks/depth";
export type { SegmentationTask, SegmentationTaskOptions } from "./tasks/segmentation";
export { segmentationTask } from "./tasks/segmentation";
export type { SegmentationHeadConfig } from "./tasks/segmentation-head";
export { SegmentationHead } from "./tasks/segmentation-head";
export type { Task, TaskKind } from "./tasks/task";
