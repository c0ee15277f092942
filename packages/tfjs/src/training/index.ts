// Barrel of the training engine: optimizers, schedules, losses, train/evaluate, checkpoints, backend selection.
export type { AdamWOptions } from "./adamw";
export { adamW } from "./adamw";
export type { BackendName, SelectBackendOptions } from "./backend";
export { selectBackend, selectedWasmThreads } from "./backend";
export type {
  Checkpoint,
  CheckpointEntry,
  CheckpointFileDigest,
  CheckpointFingerprint,
  CheckpointManifest,
  LoadCheckpointOptions,
  SaveCheckpointInput,
  SkippedCheckpoint,
  TrainingPosition,
} from "./checkpoint";
export {
  CHECKPOINT_MANIFEST_SUFFIX,
  LATEST_CHECKPOINT_FILE,
  listCheckpoints,
  loadCheckpoint,
  readCheckpoint,
  restoreCheckpoint,
  saveCheckpoint,
} from "./checkpoint";
export type { ClippedGradients } from "./clip";
export { clipByGlobalNorm, clipScale, globalNorm } from "./clip";
export type { EvaluateOptions, EvaluationOutputs, EvaluationResult, OutputMatrix } from "./evaluate";
export { evaluate } from "./evaluate";
export type { WasmHeapStats } from "./heap-guard";
export { resetWasmHeapPeak, wasmHeapRoom, wasmHeapStats } from "./heap-guard";
export type {
  CrossEntropyOptions,
  DepthLossOptions,
  ScaleInvariantLogLossOptions,
} from "./losses";
export { crossEntropy, depthL1Loss, scaleInvariantLogLoss } from "./losses";
export type { ForwardContext, ForwardFunction, TrainableModel } from "./model";
export type {
  GradientEntry,
  Optimizer,
  OptimizerOptions,
  OptimizerStateJson,
  ParameterGroup,
  ResolvedGroup,
} from "./optimizer";
export { isNoWeightDecayParameter } from "./optimizer";
export type { RandomState } from "./random";
export { SeededRandom } from "./random";
export type {
  LearningRateSchedule,
  StepScheduleOptions,
  WarmupCosineScheduleOptions,
} from "./schedules";
export { constantSchedule, stepSchedule, warmupCosineSchedule } from "./schedules";
export type { SgdOptions } from "./sgd";
export { sgd } from "./sgd";
export type {
  EpochContext,
  EpochEvent,
  EvalEvent,
  StepEvent,
  TrainCheckpointOptions,
  TrainEvaluationOptions,
  TrainingData,
  TrainOptions,
  TrainResult,
  TrainWarning,
} from "./train";
export { train } from "./train";
export type { TrainingVariables } from "./variables";
export { MAX_WASM_THREADS } from "./wasm-threads";
