// Child process of recompute.test.ts: activation recomputation's "auto" mode against a nearly full wasm heap.
// It fills the heap (through @kora/tfjs's heap guard, which selectBackend installs) until 50 MiB of room are left —
// less than a plain vit-micro training step at batch 64 needs (~67 MiB), more than a recomputed one (~32 MiB) —
// then runs the step with recompute "auto", true and false, in that order (a failed step may leave tensors
// behind). Prints one JSON line. Imports the BUILT packages, as a user would.

import {
  applyAdapters,
  crossEntropy,
  selectBackend,
  wasmHeapRoom,
  wasmHeapStats,
  withDropoutScope,
} from "@kora/tfjs";
import * as tf from "@tensorflow/tfjs";
import { createViT } from "../../dist/index.js";

await selectBackend({ prefer: "wasm", threads: 1, env: {}, log: () => {} });
const vit = createViT({ preset: "vit-micro", numClasses: 10 }, { seed: 1 });
const variables = applyAdapters(
  vit,
  { method: "lora", rank: 4, dropout: 0.2 },
  { seed: 2 },
).trainableVariables();
for (const v of variables) v.assign(tf.randomNormal(v.shape, 0, 0.05, "float32", 7));
const pixels = tf.randomUniform([64, 32, 32, 3], -1, 1, "float32", 3);
const labels = tf.tensor1d(
  Array.from({ length: 64 }, (_, i) => i % 10),
  "int32",
);

const MiB = 2 ** 20;
const filler = [];
while (wasmHeapRoom() > 50 * MiB + 512 * MiB) filler.push(tf.fill([128, 1024, 1024], 0));
filler.push(tf.fill([(wasmHeapRoom() - 50 * MiB) / 4], 0));
const room = wasmHeapRoom();

function step(mode) {
  vit.recompute = mode;
  try {
    // One dropout scope for every mode: the same masks, so the gradients can be compared.
    const { value, grads } = withDropoutScope({ seed: 1, step: 0, microBatch: 0 }, () =>
      tf.tidy(() =>
        tf.variableGrads(
          () => crossEntropy(vit.forward(pixels, { format: "NHWC", training: true }).logits, labels),
          variables,
        ),
      ),
    );
    const result = variables.map((v) => Array.from(grads[v.name].dataSync()));
    tf.dispose([value, ...Object.values(grads)]);
    return { ok: true, grads: result, peak: wasmHeapStats().peakBytes };
  } catch (error) {
    return { ok: false, code: error?.code ?? String(error) };
  }
}

const auto = step("auto");
const always = step(true);
const never = step(false);
let maxDiff = null;
if (auto.ok && always.ok) {
  maxDiff = 0;
  auto.grads.forEach((g, i) => {
    g.forEach((x, j) => {
      maxDiff = Math.max(maxDiff, Math.abs(x - always.grads[i][j]));
    });
  });
}
const nonZero = always.ok && always.grads.every((g) => g.some((x) => x !== 0));
process.stdout.write(
  `${JSON.stringify({ room, auto: auto.ok, always: always.ok, nonZero, never: never.ok ? "ok" : never.code, maxDiff })}\n`,
);
