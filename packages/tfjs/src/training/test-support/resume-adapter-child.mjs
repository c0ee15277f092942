// Child process of resume-process.test.ts: trains a LoRA, KoRA, gated-bottleneck or gated-LoRA adapter WITH dropout on a small seeded
// transformer built on the adapter sites, with the BUILT package (../../../dist), checkpointing every step. Prints
// "resumed <step|none>", "step <k>" after each step (its checkpoint is on disk by then) and "done"; writes the
// adapter's and head's final values (float32 bytes, variables in name order) to --out.
// Usage: node resume-adapter-child.mjs --method lora|kora|gated-bottleneck|gated-lora --dir <checkpoints> --out <file> --steps <N> [--delay <ms>]
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import {
  AttentionSite,
  adamW,
  applyAdapters,
  crossEntropy,
  LinearSite,
  linear,
  MlpSite,
  SeededRandom,
  selectBackend,
  train,
} from "../../../dist/index.js";

const { values } = parseArgs({
  options: {
    method: { type: "string" },
    dir: { type: "string" },
    out: { type: "string" },
    steps: { type: "string" },
    delay: { type: "string" },
  },
});
const steps = Number(values.steps);
const delay = Number(values.delay ?? 0);
await selectBackend({ log: (line) => process.stderr.write(`${line}\n`) });

// Backbone: tokens [batch, 4, 8] → 2 blocks (single-head attention, ReLU MLP 16, residuals) → mean → head.
const shape = {
  dim: 8,
  depth: 2,
  heads: 1,
  mlpDim: 16,
  numClasses: 3,
  patchSize: 2,
  imageSize: 4,
  channels: 2,
};
const tokens = 4;
const init = new SeededRandom(3);
const backbone = [];
const variable = (dims, std, list) => {
  const n = dims.reduce((a, b) => a * b, 1);
  const initial = tf.tensor(init.normalArray(n, 0, std), dims);
  const v = tf.variable(initial, true);
  initial.dispose();
  list?.push(v);
  return v;
};
const site = (layer, target, inDim, outDim) =>
  new LinearSite({
    layer,
    target,
    kernel: variable([inDim, outDim], 1 / Math.sqrt(inDim), backbone),
    bias: variable([outDim], 0.1, backbone),
  });
const attentionSites = [];
const mlpSites = [];
for (let layer = 0; layer < shape.depth; layer++) {
  const s = (target) => site(layer, target, shape.dim, shape.dim);
  attentionSites.push(new AttentionSite(layer, s("query"), s("key"), s("value"), s("output")));
  mlpSites.push(
    new MlpSite(
      layer,
      site(layer, "fc1", shape.dim, shape.mlpDim),
      site(layer, "fc2", shape.mlpDim, shape.dim),
    ),
  );
}
const head = { kernel: variable([shape.dim, shape.numClasses], 0.5), bias: variable([shape.numClasses], 0) };
const model = {
  backboneShape: shape,
  attentionSites,
  mlpSites,
  backboneVariables: () => [...backbone],
  headVariables: () => [head.kernel, head.bias],
};
const forward = (x, training) => {
  const batch = x.shape[0];
  let h = x.reshape([batch * tokens, shape.dim]);
  for (let layer = 0; layer < shape.depth; layer++) {
    const attention = attentionSites[layer];
    const mlp = mlpSites[layer];
    const { q, k, v } = attention.projectQkv(h, training);
    const split = (t) => t.reshape([batch, tokens, shape.dim]);
    const scores = tf.mul(tf.matMul(split(q), split(k), false, true), 1 / Math.sqrt(shape.dim));
    const context = tf.matMul(tf.softmax(scores), split(v)).reshape([batch * tokens, shape.dim]);
    h = tf.add(h, attention.output.apply(context, training));
    const out = mlp.fc2.apply(tf.relu(mlp.fc1.apply(h, training)), training);
    h = tf.add(h, mlp.finish(h, out, training));
  }
  const pooled = tf.mean(h.reshape([batch, tokens, shape.dim]), 1);
  return linear(pooled, head.kernel, head.bias);
};

const specs = {
  lora: { method: "lora", rank: 2, alpha: 4, dropout: 0.2, targets: ["query", "value", "fc1", "fc2"] },
  kora: { method: "kora", rank: 2, alpha: 4, dropout: 0.2 },
  "gated-bottleneck": { method: "gated-bottleneck", hidden: 4, dropout: 0.2 },
  "gated-lora": {
    method: "gated-lora",
    rank: 2,
    alpha: 4,
    dropout: 0.2,
    targets: ["query", "value", "fc1", "fc2"],
  },
};
const handle = applyAdapters(model, specs[values.method], { seed: 5 });
const variables = {};
for (const [name, v] of handle.adapterVariables()) variables[`adapter/${name}`] = v;
variables["head/kernel"] = head.kernel;
variables["head/bias"] = head.bias;

// Data: 48 examples of 4 tokens, labels from the sign of a token sum; batches of 8 reshuffled every epoch.
const size = 48;
const dataRandom = new SeededRandom(11);
const features = Float32Array.from(dataRandom.normalArray(size * tokens * shape.dim, 0, 1));
const labels = Int32Array.from({ length: size }, (_, i) => {
  const s = features[i * tokens * shape.dim] + features[i * tokens * shape.dim + 1];
  return s > 0.5 ? 2 : s > -0.5 ? 1 : 0;
});
function* batches(context) {
  const order = new SeededRandom(context.seed).permutation(size);
  const per = tokens * shape.dim;
  for (let start = 0; start < size; start += 8) {
    const idx = order.subarray(start, start + 8);
    const x = new Float32Array(idx.length * per);
    idx.forEach((i, k) => {
      x.set(features.subarray(i * per, (i + 1) * per), k * per);
    });
    yield {
      x: tf.tensor3d(x, [idx.length, tokens, shape.dim]),
      y: tf.tensor1d(
        Int32Array.from(idx, (i) => labels[i]),
        "int32",
      ),
    };
  }
}

const optimizer = adamW({ learningRate: 0.05, weightDecay: 0.01 });
const result = await train({
  model: (batch, context) => forward(batch.x, context.training),
  variables,
  data: batches,
  loss: (logits, batch) => crossEntropy(logits, batch.y),
  optimizer,
  steps,
  accumulationSteps: 2,
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
