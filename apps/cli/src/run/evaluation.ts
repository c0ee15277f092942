import type { Dataset } from "@kora/datasets";
import { iterateBatches } from "@kora/datasets";
import {
  accuracy,
  confusionMatrix,
  type DepthMetrics,
  depthMetrics,
  f1Score,
  type Matrix,
} from "@kora/metrics";
import { KoraError } from "@kora/spec";
import { evaluate } from "@kora/tfjs";
import type { ViT } from "@kora/vit";
import type { Output } from "../output/context";
import { createProgress } from "../output/progress";
import { formatInteger, renderFields, renderTable } from "../output/table";
import { batchOptionsFor, type TensorBatch, toTensors } from "./data";
import { predict } from "./model";

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
 * Runs the model over a dataset split (`@kora/tfjs`'s `evaluate`) and scores it with `@kora/metrics`: accuracy,
 * macro-F1 and the confusion matrix for a classification head; the depth metrics (per image, then averaged) for a
 * depth head.
 */
export async function evaluateModel(
  vit: ViT,
  dataset: Dataset,
  options: EvaluateModelOptions,
): Promise<EvaluationReport> {
  if (dataset.task === "classification" && vit.head?.kind === "classification") {
    const classes = vit.config.numClasses;
    if (dataset.classes.length !== classes) {
      throw new KoraError({
        code: "SHAPE_MISMATCH",
        message: `--dataset: ${dataset.name} has ${dataset.classes.length} classes but the run's head has ${classes}; 'kora transfer' trains a head for new classes`,
      });
    }
  } else if (dataset.task !== (vit.head?.kind ?? "none")) {
    throw new KoraError({
      code: "SHAPE_MISMATCH",
      message: `--dataset: ${dataset.name} is a ${dataset.task} dataset but the run trained a ${vit.head?.kind ?? "headless"} model`,
    });
  }
  const indices = firstIndices(dataset, options.limit);
  const examples = indices?.length ?? dataset.size;
  const batchOptions = {
    ...batchOptionsFor(vit.config, options.batchSize),
    ...(indices === undefined ? {} : { indices }),
  };
  const progress = createProgress(options.output, {
    label: "eval",
    total: Math.ceil(examples / options.batchSize),
  });
  const depths: Matrix[] = [];
  async function* batches(): AsyncGenerator<TensorBatch> {
    for await (const batch of iterateBatches(dataset, batchOptions)) {
      if ("depths" in batch) {
        const [n, h, w] = batch.shape;
        for (let i = 0; i < n; i++) {
          depths.push({ rows: h, cols: w, data: batch.depths.subarray(i * h * w, (i + 1) * h * w) });
        }
      }
      yield toTensors(batch);
      progress.tick();
    }
  }
  let result: Awaited<ReturnType<typeof evaluate<TensorBatch>>>;
  try {
    result = await evaluate<TensorBatch>({
      model: (batch) => predict(vit, batch.images, false),
      data: batches(),
      ...(dataset.task === "classification"
        ? { labels: (batch: TensorBatch) => (batch.kind === "classification" ? batch.labels : []) }
        : {}),
    });
  } finally {
    progress.stop();
  }
  const base = { dataset: dataset.name, split: dataset.split, examples: result.examples };
  if (dataset.task === "classification") {
    const labels = result.labels!;
    const predictions = result.predictions!;
    const all = Array.from({ length: dataset.classes.length }, (_, k) => k);
    return {
      task: "classification",
      ...base,
      accuracy: accuracy(labels, predictions),
      macroF1: f1Score(labels, predictions, { average: "macro" }),
      confusionMatrix: confusionMatrix(labels, predictions, { labels: all }).matrix,
      classes: [...dataset.classes],
    };
  }
  const outputs = result.outputs!;
  const [h, w] = [vit.config.imageSize, vit.config.imageSize];
  const predicted: Matrix[] = depths.map((_, i) => ({
    rows: h,
    cols: w,
    data: outputs.data.subarray(i * outputs.cols, (i + 1) * outputs.cols),
  }));
  return { task: "depth", ...base, ...depthMetrics(predicted, depths) };
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
