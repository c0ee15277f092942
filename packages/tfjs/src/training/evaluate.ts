import { KoraError } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import type { TfjsErrorCode } from "../errors";
import { defaultBatchSize, disposeBatch, forwardContext, forwardOf, type TrainableModel } from "./model";
import { SeededRandom } from "./random";

/** A row-major matrix (rows = examples), the input format of `@kora/metrics`. */
export interface OutputMatrix {
  /** Number of examples. */
  rows: number;
  /** Values per example (the product of the output's non-batch dimensions). */
  cols: number;
  /** `rows × cols` values, row-major. */
  data: Float32Array;
}

/** What {@link evaluate} collects, handed to each metric function. */
export interface EvaluationOutputs {
  /** Number of examples seen. */
  examples: number;
  /** Mean loss per example (batches weighted by their size, accumulated in float64); `null` without `loss`. */
  loss: number | null;
  /** Every output, one row per example (logits for a classifier); `null` with `keepOutputs: false`. */
  outputs: OutputMatrix | null;
  /** Arg-max class per example when the output is 2-D `[n, classes]`; `null` otherwise. */
  predictions: Int32Array | null;
  /** The labels `labels(batch)` returned, concatenated; `null` without `labels`. */
  labels: Int32Array | null;
}

/** Result of {@link evaluate}: the collected outputs and the metric values. */
export interface EvaluationResult extends EvaluationOutputs {
  /** Each metric of `options.metrics`, by the same name. */
  metrics: Record<string, number>;
}

/** Options of {@link evaluate}. */
export interface EvaluateOptions<B> {
  /** The model (a forward function or an object with `forward`), called with `training: false`. */
  model: TrainableModel<B>;
  /** Batches to evaluate (any iterable or async iterable). */
  data: Iterable<B> | AsyncIterable<B>;
  /** Loss to average over the examples (optional). */
  loss?: (output: tf.Tensor, batch: B) => tf.Scalar;
  /** Extracts the integer labels of a batch, for metrics (optional); a returned tensor is not disposed here. */
  labels?: (batch: B) => tf.Tensor | Int32Array | readonly number[];
  /**
   * Metrics computed from the collected outputs, by name, e.g.
   * `{ accuracy: (r) => accuracy(r.labels!, r.predictions!) }` with `@kora/metrics`.
   */
  metrics?: Readonly<Record<string, (outputs: EvaluationOutputs) => number>>;
  /** Keep every output row in the result (default true; false keeps memory flat on large sets). */
  keepOutputs?: boolean;
  /** Examples in a batch (default: first dimension of the batch's first tensor). */
  batchSize?: (batch: B) => number;
  /** Dispose each batch's tensors after use (default true). */
  disposeBatches?: boolean;
  /** Seed of the forward context's random stream (default 0; evaluation normally draws nothing). */
  seed?: number | string;
}

function concat<T extends Float32Array | Int32Array>(chunks: T[], make: (n: number) => T): T {
  const out = make(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/**
 * Runs the model over `data` without gradients (every batch inside `tf.tidy`) and returns the mean loss, the
 * outputs (logits) as a row-major matrix, arg-max predictions and labels for `@kora/metrics`, and the requested
 * metrics.
 */
export async function evaluate<B>(options: EvaluateOptions<B>): Promise<EvaluationResult> {
  const forward = forwardOf(options.model);
  const keepOutputs = options.keepOutputs ?? true;
  const random = new SeededRandom(options.seed ?? 0);
  const context = forwardContext(false, 0, 0, random);
  const outputChunks: Float32Array[] = [];
  const predictionChunks: Int32Array[] = [];
  const labelChunks: Int32Array[] = [];
  let examples = 0;
  let outputRows = 0;
  let lossSum = 0;
  let cols = -1;
  let twoDimensional = true;
  for await (const batch of options.data) {
    try {
      const n = (options.batchSize ?? defaultBatchSize)(batch);
      const [output, loss = null] = tf.tidy(() => {
        const out = forward(batch, context);
        return options.loss ? [out, options.loss(out, batch)] : [out];
      }) as [tf.Tensor, tf.Scalar?];
      try {
        const rows = output.shape[0] ?? 1;
        const width = output.size / rows;
        if (cols !== -1 && width !== cols) {
          throw new KoraError<TfjsErrorCode>({
            code: "SHAPE_MISMATCH",
            message: `evaluate: outputs of ${cols} values per example, then a batch with ${width}`,
          });
        }
        cols = width;
        twoDimensional &&= output.rank === 2;
        const values = await output.data<"float32">();
        if (keepOutputs) outputChunks.push(new Float32Array(values));
        if (output.rank === 2) {
          const predictions = new Int32Array(rows);
          for (let r = 0; r < rows; r++) {
            let best = 0;
            for (let c = 1; c < width; c++) {
              if ((values[r * width + c] as number) > (values[r * width + best] as number)) best = c;
            }
            predictions[r] = best;
          }
          predictionChunks.push(predictions);
        }
        if (loss !== null) lossSum += ((await loss.data())[0] as number) * n;
        if (options.labels) {
          const labels = options.labels(batch);
          labelChunks.push(
            labels instanceof tf.Tensor ? Int32Array.from(await labels.data()) : Int32Array.from(labels),
          );
        }
        examples += n;
        outputRows += rows;
      } finally {
        output.dispose();
        loss?.dispose();
      }
    } finally {
      if (options.disposeBatches ?? true) disposeBatch(batch);
    }
  }
  const outputs: EvaluationOutputs = {
    examples,
    loss: options.loss && examples > 0 ? lossSum / examples : null,
    outputs:
      keepOutputs && cols >= 0
        ? { rows: outputRows, cols, data: concat(outputChunks, (n) => new Float32Array(n)) }
        : null,
    predictions: twoDimensional && cols >= 0 ? concat(predictionChunks, (n) => new Int32Array(n)) : null,
    labels: options.labels ? concat(labelChunks, (n) => new Int32Array(n)) : null,
  };
  const metrics: Record<string, number> = {};
  for (const [name, metric] of Object.entries(options.metrics ?? {})) metrics[name] = metric(outputs);
  return { ...outputs, metrics };
}
