import type { Dataset } from "@kora/datasets";
import { evaluateTask, type Task } from "@kora/finetune";
import type { DepthMetrics } from "@kora/metrics";
import { KoraError } from "@kora/spec";
import type { ViT } from "@kora/vit";
import type { Output } from "../output/context";
import { createProgress } from "../output/progress";
import { formatInteger, renderFields, renderTable } from "../output/table";

/** What an evaluation measured. */
export type EvaluationReport =
  | {
      task: "classification";
      dataset: string;
      split: string;
      examples: number;
      accuracy: number;
      macroF1: number;
      /** Rows = true class, columns = predicted class, over every class of the head. */
      confusionMatrix: number[][];
      classes: string[];
    }
  | ({ task: "depth"; dataset: string; split: string; examples: number } & DepthMetrics);

/** Options of {@link evaluateModel}. */
export interface EvaluateModelOptions {
  batchSize: number;
  /** Evaluate the first `limit` examples only. */
  limit?: number | undefined;
  output: Output;
}

/** The examples to use: all, or the first `limit`. */
export function firstIndices(dataset: Dataset, limit: number | undefined): Int32Array | undefined {
  if (limit === undefined || limit >= dataset.size) return undefined;
  return Int32Array.from({ length: limit }, (_, i) => i);
}

/**
 * Scores a run's model on a dataset split with `@kora/finetune`'s `evaluateTask` (the task's own decoding, scored
 * by `@kora/metrics`): accuracy, macro-F1 and the confusion matrix for a classification head; the depth metrics
 * (per image, then averaged) for a depth head. A dataset that does not fit the head is a `SHAPE_MISMATCH` that
 * says which command fits instead.
 */
export async function evaluateModel(
  model: { vit: ViT; task: Task },
  dataset: Dataset,
  options: EvaluateModelOptions,
): Promise<EvaluationReport> {
  const { vit, task } = model;
  if (dataset.task === "classification" && task.kind === "classification") {
    const classes = vit.config.numClasses;
    if (dataset.classes.length !== classes) {
      throw new KoraError({
        code: "SHAPE_MISMATCH",
        message: `--dataset: ${dataset.name} has ${dataset.classes.length} classes but the run's head has ${classes}; 'kora transfer' trains a head for new classes`,
      });
    }
  } else if (dataset.task !== task.kind) {
    throw new KoraError({
      code: "SHAPE_MISMATCH",
      message: `--dataset: ${dataset.name} is a ${dataset.task} dataset but the run trained a ${task.kind} model`,
    });
  }
  const indices = firstIndices(dataset, options.limit);
  const examples = indices?.length ?? dataset.size;
  const progress = createProgress(options.output, {
    label: "eval",
    total: Math.ceil(examples / options.batchSize),
  });
  try {
    const scores = await evaluateTask(vit, task, dataset, {
      batchSize: options.batchSize,
      indices,
      onBatch: () => progress.tick(),
    });
    const base = { dataset: dataset.name, split: dataset.split };
    if (scores.task === "classification" && dataset.task === "classification") {
      return { ...scores, ...base, classes: [...dataset.classes] };
    }
    if (scores.task === "depth") return { ...scores, ...base };
    throw new Error("unreachable: the task and the dataset were checked above");
  } finally {
    progress.stop();
  }
}

/** Text for an evaluation: the scores, and the confusion matrix when it is small enough to read. */
export function renderEvaluation(report: EvaluationReport, output: Output): string {
  const bold = (t: string) => output.style("bold", t);
  const head: [string, string][] = [
    ["dataset", `${report.dataset} (${report.split}, ${formatInteger(report.examples)} examples)`],
  ];
  if (report.task === "depth") {
    const { rmse, absRel, sqRel, rmseLog, delta1, delta2, delta3 } = report;
    return renderFields(
      [
        ...head,
        ["rmse", `${rmse.toFixed(4)} m`],
        ["absRel", absRel.toFixed(4)],
        ["sqRel", sqRel.toFixed(4)],
        ["rmseLog", rmseLog.toFixed(4)],
        ["δ<1.25", delta1.toFixed(4)],
        ["δ<1.25²", delta2.toFixed(4)],
        ["δ<1.25³", delta3.toFixed(4)],
      ],
      bold,
    );
  }
  const fields = renderFields(
    [...head, ["accuracy", report.accuracy.toFixed(4)], ["macro-F1", report.macroF1.toFixed(4)]],
    bold,
  );
  const k = report.classes.length;
  if (k > 12) {
    return `${fields}\n\nconfusion matrix: ${k} × ${k} (rows true, columns predicted) in the --json output`;
  }
  const table = renderTable(
    [
      { header: "true \\ predicted" },
      ...report.classes.map((_, j) => ({ header: String(j), align: "right" as const })),
    ],
    report.confusionMatrix.map((row, i) => [`${i} ${report.classes[i]}`, ...row.map(String)]),
    bold,
  );
  return `${fields}\n\n${table}`;
}
