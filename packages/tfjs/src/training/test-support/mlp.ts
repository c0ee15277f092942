import * as tf from "@tensorflow/tfjs";
import { linear } from "../../ops/linear";
import type { ForwardContext } from "../model";
import { SeededRandom } from "../random";

/** A batch of the synthetic classification task: features `[n, d]` and int32 labels `[n]`. */
export interface Batch {
  x: tf.Tensor2D;
  y: tf.Tensor1D;
}

/** A 2-layer MLP (`linear` → relu → dropout → `linear`) on named tf.Variables, initialised from a seed. */
export interface Mlp {
  variables: Record<string, tf.Variable>;
  forward: (batch: Batch, context: ForwardContext) => tf.Tensor2D;
  dispose: () => void;
}

let instance = 0;

/** Builds the MLP; `dropout` is applied after the hidden layer while training. */
export function createMlp(options: {
  inputs: number;
  hidden: number;
  classes: number;
  seed: number;
  dropout?: number;
}): Mlp {
  const random = new SeededRandom(options.seed);
  const id = instance++;
  const make = (name: string, shape: number[], std: number): tf.Variable => {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = std === 0 ? new Float32Array(size) : random.normalArray(size, 0, std);
    const initial = tf.tensor(values, shape);
    const variable = tf.variable(initial, true, `mlp${id}/${name}`);
    initial.dispose();
    return variable;
  };
  const variables = {
    "dense1/kernel": make("dense1/kernel", [options.inputs, options.hidden], Math.sqrt(2 / options.inputs)),
    "dense1/bias": make("dense1/bias", [options.hidden], 0),
    "head/kernel": make("head/kernel", [options.hidden, options.classes], Math.sqrt(1 / options.hidden)),
    "head/bias": make("head/bias", [options.classes], 0),
  };
  const rate = options.dropout ?? 0;
  return {
    variables,
    forward: (batch, context) => {
      const h = tf.relu(
        linear(
          batch.x,
          variables["dense1/kernel"] as tf.Tensor as tf.Tensor2D,
          variables["dense1/bias"] as tf.Tensor as tf.Tensor1D,
        ),
      );
      return linear(
        context.dropout(h, rate),
        variables["head/kernel"] as tf.Tensor as tf.Tensor2D,
        variables["head/bias"] as tf.Tensor as tf.Tensor1D,
      );
    },
    dispose: () => tf.dispose(Object.values(variables)),
  };
}

/** A separable synthetic dataset: `classes` Gaussian blobs with well-separated means in `features` dimensions. */
export interface Blobs {
  features: Float32Array;
  labels: Int32Array;
  size: number;
  dims: number;
}

/** Generates {@link Blobs} from a seed. */
export function makeBlobs(options: { size: number; dims: number; classes: number; seed: number }): Blobs {
  const random = new SeededRandom(options.seed);
  const centres = Array.from({ length: options.classes }, () => random.normalArray(options.dims, 0, 3));
  const features = new Float32Array(options.size * options.dims);
  const labels = new Int32Array(options.size);
  for (let i = 0; i < options.size; i++) {
    const label = i % options.classes;
    labels[i] = label;
    const centre = centres[label] as Float32Array;
    for (let d = 0; d < options.dims; d++)
      features[i * options.dims + d] = (centre[d] as number) + random.normal();
  }
  return { features, labels, size: options.size, dims: options.dims };
}

/**
 * The epoch's batches of `blobs`: shuffled with `seed` when given (else in order), `batchSize` per batch (the last
 * one smaller), fresh tensors each time (the trainer disposes them).
 */
export function* blobBatches(blobs: Blobs, batchSize: number, seed?: number): Generator<Batch> {
  const order =
    seed === undefined
      ? Int32Array.from({ length: blobs.size }, (_, i) => i)
      : new SeededRandom(seed).permutation(blobs.size);
  for (let start = 0; start < blobs.size; start += batchSize) {
    const idx = order.subarray(start, Math.min(blobs.size, start + batchSize));
    const x = new Float32Array(idx.length * blobs.dims);
    const y = new Int32Array(idx.length);
    idx.forEach((i, k) => {
      x.set(blobs.features.subarray(i * blobs.dims, (i + 1) * blobs.dims), k * blobs.dims);
      y[k] = blobs.labels[i] as number;
    });
    yield { x: tf.tensor2d(x, [idx.length, blobs.dims]), y: tf.tensor1d(y, "int32") };
  }
}
