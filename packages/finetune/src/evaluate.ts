import type { Dataset } from "@kora/datasets";
import {
  accuracy,
  confusionMatrix,
  type DepthMetrics,
  depthMetrics,
  f1Score,
  type Matrix,
  type SegmentationMetrics,
  segmentationMetrics,
} from "@kora/metrics";
import type { ViT } from "@kora/vit";
import * as tf from "@tensorflow/tfjs";
import { type TensorBatch, tensorBatches } from "./batches";
import { checkInteger, finetuneError } from "./errors";
import type { ClassificationTask } from "./tasks/classification";
import type { DepthTask } from "./tasks/depth";
import type { SegmentationTask } from "./tasks/segmentation";
import type { Task } from "./tasks/task";

/** Options of {@link evaluateTask}. */
export interface EvaluateOptions {
  batchSize: number;
  /** Evaluate these dataset indices only. Default: every item, in order. */
  indices?: ArrayLike<number> | undefined;
  /** Labels replacing the dataset's, one per entry of `indices` (e.g. coarser pretraining labels). */
  labels?: Int32Array | undefined;
  /** After each batch (progress). */
  onBatch?: ((examples: number) => void) | undefined;
}

/** Classification scores: accuracy and macro-F1 in [0, 1], and the confusion matrix over every class of the head. */
export interface ClassificationEvaluation {
  task: "classification";
  examples: number;
  accuracy: number;
  /** Macro-averaged F1 over the classes that occur (scikit-learn's `zero_division=0`). */
  macroF1: number;
  /** Rows = true class, columns = predicted class. */
  confusionMatrix: number[][];
}

/** Depth scores (per image, then averaged) over the task's valid range. */
export type DepthEvaluation = { task: "depth"; examples: number } & DepthMetrics;

/**
 * Segmentation scores from `@kora/metrics`' `segmentationMetrics`: mIoU, pixel accuracy, … over every scored pixel
 * of the evaluated images at the model's resolution; `examples` counts images.
 */
export type SegmentationEvaluation = { task: "segmentation"; examples: number } & SegmentationMetrics;

/** What {@link evaluateTask} measured. */
export type Evaluation = ClassificationEvaluation | DepthEvaluation | SegmentationEvaluation;

/**
 * Runs the model over a dataset (inference mode) and decodes its output with the task's one decoding, then scores
 * it with `@kora/metrics`: accuracy, macro-F1 and confusion matrix for classification; RMSE, AbsRel, δ… for depth,
 * each prediction in metres against the ground truth over the task's valid range; mIoU, pixel accuracy, … for
 * segmentation, each pixel's arg-max class against the class map resized (nearest) to the model's input.
 *
 * @throws KoraError `TASK_MISMATCH` when the dataset or the model's head is not of the task's kind (or classes).
 */
export async function evaluateTask(
  vit: ViT,
  task: ClassificationTask,
  dataset: Dataset,
  options: EvaluateOptions,
): Promise<ClassificationEvaluation>;
export async function evaluateTask(
  vit: ViT,
  task: DepthTask,
  dataset: Dataset,
  options: EvaluateOptions,
): Promise<DepthEvaluation>;
export async function evaluateTask(
  vit: ViT,
  task: SegmentationTask,
  dataset: Dataset,
  options: EvaluateOptions,
): Promise<SegmentationEvaluation>;
export async function evaluateTask(
  vit: ViT,
  task: Task,
  dataset: Dataset,
  options: EvaluateOptions,
): Promise<Evaluation>;
export async function evaluateTask(
  vit: ViT,
  task: Task,
  dataset: Dataset,
  options: EvaluateOptions,
): Promise<Evaluation> {
  if (dataset.task !== task.kind) {
    throw finetuneError(
      "TASK_MISMATCH",
      `${dataset.name} is a ${dataset.task} dataset but the model was trained for ${task.kind}`,
    );
  }
  task.checkHead(vit.head, "evaluate");
  checkInteger(options.batchSize, "batchSize", 1);
  if (task.kind === "classification" && dataset.task === "classification") {
    const classes = (task as ClassificationTask).classes;
    if (options.labels === undefined && dataset.classes.length !== classes) {
      throw finetuneError(
        "TASK_MISMATCH",
        `${dataset.name} has ${dataset.classes.length} classes but the head has ${classes}`,
      );
    }
  }
  if (task.kind === "segmentation" && dataset.task === "segmentation") {
    const classes = (task as SegmentationTask).classes;
    if (dataset.classes.length !== classes) {
      throw finetuneError(
        "TASK_MISMATCH",
        `${dataset.name} has ${dataset.classes.length} classes but the head has ${classes}`,
      );
    }
  }
  const predictions: number[] = [];
  const labels: number[] = [];
  const predictedDepths: Matrix[] = [];
  const trueDepths: Matrix[] = [];
  const predictedMaps: Int32Array[] = [];
  const trueMaps: Int32Array[] = [];
  const batches = tensorBatches(dataset, vit.config, {
    batchSize: options.batchSize,
    indices: options.indices,
    labels: options.labels,
    ...(task.depthRange === undefined ? {} : { depthRange: task.depthRange }),
  });
  for await (const batch of batches) {
    try {
      const decoded = tf.tidy(() =>
        task.decode(task.rawOutput(vit.forward(batch.images, { format: "NHWC" }))),
      );
      const values = await decoded.data();
      decoded.dispose();
      collect(batch, values, { predictions, labels, predictedDepths, trueDepths, predictedMaps, trueMaps });
    } finally {
      disposeTensors(batch);
    }
    options.onBatch?.(batch.indices.length);
  }
  if (task.kind === "classification") {
    const classes = (task as ClassificationTask).classes;
    const truth = Int32Array.from(labels);
    const predicted = Int32Array.from(predictions);
    return {
      task: "classification",
      examples: truth.length,
      accuracy: accuracy(truth, predicted),
      macroF1: f1Score(truth, predicted, { average: "macro", zeroDivision: 0 }),
      confusionMatrix: confusionMatrix(truth, predicted, {
        labels: Array.from({ length: classes }, (_, k) => k),
      }).matrix,
    };
  }
  if (task.kind === "segmentation") {
    const { classes, ignoreIndex } = task as SegmentationTask;
    return {
      task: "segmentation",
      examples: predictedMaps.length,
      ...segmentationMetrics(predictedMaps, trueMaps, { classes, ignoreIndex }),
    };
  }
  const [minDepth, maxDepth] = task.depthRange!;
  return {
    task: "depth",
    examples: predictedDepths.length,
    ...depthMetrics(predictedDepths, trueDepths, { minDepth, maxDepth }),
  };
}

function collect(
  batch: TensorBatch,
  values: ArrayLike<number>,
  into: {
    predictions: number[];
    labels: number[];
    predictedDepths: Matrix[];
    trueDepths: Matrix[];
    predictedMaps: Int32Array[];
    trueMaps: Int32Array[];
  },
): void {
  if (batch.kind === "classification") {
    const truth = batch.labels.dataSync();
    for (let i = 0; i < truth.length; i++) {
      into.labels.push(truth[i]!);
      into.predictions.push(values[i]!);
    }
    return;
  }
  if (batch.kind === "segmentation") {
    const [n, h, w] = batch.labels.shape;
    const pixels = h * w;
    const predicted = Int32Array.from(values);
    for (let i = 0; i < n; i++) {
      into.predictedMaps.push(predicted.subarray(i * pixels, (i + 1) * pixels));
      into.trueMaps.push(batch.labelValues.subarray(i * pixels, (i + 1) * pixels));
    }
    return;
  }
  const [n, h, w] = batch.depths.shape;
  const pixels = h * w;
  const predicted = Float32Array.from(values);
  for (let i = 0; i < n; i++) {
    into.predictedDepths.push({ rows: h, cols: w, data: predicted.subarray(i * pixels, (i + 1) * pixels) });
    into.trueDepths.push({
      rows: h,
      cols: w,
      data: batch.depthValues.subarray(i * pixels, (i + 1) * pixels),
    });
  }
}

/** Disposes every tensor of a batch. */
export function disposeTensors(batch: TensorBatch): void {
  tf.dispose(Object.values(batch).filter((value): value is tf.Tensor => value instanceof tf.Tensor));
}
