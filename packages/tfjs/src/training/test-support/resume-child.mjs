// Child process of resume-process.test.ts: trains a small seeded MLP with the BUILT package (../../../dist) and
// checkpoints every step. Prints "resumed <step|none>", "step <k>" after each step (its checkpoint is on disk by
// then) and "done"; writes the final weights (float32 bytes, variables in name order) to --out.
// Usage: node resume-child.mjs --dir <checkpoints> --out <file> --steps <N> [--delay <ms per step>]
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import {
  adamW,
  crossEntropy,
  isNoWeightDecayParameter,
  linear,
  SeededRandom,
  selectBackend,
  train,
  warmupCosineSchedule,
} from "../../../dist/index.js";

const { values } = parseArgs({
  options: {
    dir: { type: "string" },
    out: { type: "string" },
    steps: { type: "string" },
    delay: { type: "string" },
  },
});
const steps = Number(values.steps);
const delay = Number(values.delay ?? 0);
await selectBackend({ log: (line) => process.stderr.write(`${line}\n`) });

// Data: 3 Gaussian blobs in 8 dimensions, 96 examples, batches of 16 reshuffled every epoch from the epoch seed.
const dims = 8;
const size = 96;
const dataRandom = new SeededRandom(11);
const centres = Array.from({ length: 3 }, () => dataRandom.normalArray(dims, 0, 3));
const features = new Float32Array(size * dims);
const labels = new Int32Array(size);
for (let i = 0; i < size; i++) {
  labels[i] = i % 3;
  for (let d = 0; d < dims; d++) features[i * dims + d] = centres[i % 3][d] + dataRandom.normal();
}
function* batches(context) {
  const order = new SeededRandom(context.seed).permutation(size);
  for (let start = 0; start < size; start += 16) {
    const idx = order.subarray(start, start + 16);
    const x = new Float32Array(idx.length * dims);
    idx.forEach((i, k) => {
      x.set(features.subarray(i * dims, (i + 1) * dims), k * dims);
    });
    yield {
      x: tf.tensor2d(x, [idx.length, dims]),
      y: tf.tensor1d(
        Int32Array.from(idx, (i) => labels[i]),
        "int32",
      ),
    };
  }
}

// Model: linear → relu → dropout(0.3) → linear, initialised from its own seed.
const init = new SeededRandom(3);
const variable = (shape, std) => {
  const n = shape.reduce((a, b) => a * b, 1);
  const initial = tf.tensor(std === 0 ? new Float32Array(n) : init.normalArray(n, 0, std), shape);
  const v = tf.variable(initial, true);
  initial.dispose();
  return v;
};
const variables = {
  "dense1/kernel": variable([dims, 16], 0.5),
  "dense1/bias": variable([16], 0),
  "head/kernel": variable([16, 3], 0.25),
  "head/bias": variable([3], 0),
};
const forward = (batch, context) => {
  const h = tf.relu(linear(batch.x, variables["dense1/kernel"], variables["dense1/bias"]));
  return linear(context.dropout(h, 0.3), variables["head/kernel"], variables["head/bias"]);
};

const optimizer = adamW({
  learningRate: 0.02,
  weightDecay: 0.05,
  groups: [
    { match: /^head\//, learningRate: 0.04 },
    { match: isNoWeightDecayParameter, weightDecay: 0 },
  ],
});
const result = await train({
  model: forward,
  variables,
  data: batches,
  loss: (logits, batch) => crossEntropy(logits, batch.y, { labelSmoothing: 0.1 }),
  optimizer,
  schedule: warmupCosineSchedule({ warmupSteps: 4, totalSteps: steps }),
  steps,
  clipGradientNorm: 1,
  seed: 7,
  checkpoint: { dir: values.dir, everySteps: 1, keepLast: 2 },
  onStep: async (event) => {
    process.stdout.write(`step ${event.step}\n`);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
  },
});
process.stdout.write(`resumed ${result.resumedFrom ?? "none"}\n`);
const names = Object.keys(variables).sort();
await writeFile(
  values.out,
  Buffer.concat(names.map((name) => Buffer.from(variables[name].dataSync().buffer))),
);
process.stdout.write("done\n");
