// Child process of wasm-threads.test.ts: initialises the wasm backend with --threads N through the BUILT package
// (../../../dist), runs the kernels the ViT step is made of (GEMMs through `linear` and its gradients, a
// depthwise convolution, a convolution, softmax, layer statistics) on seeded inputs, and prints one JSON line:
// the thread count XNNPACK reports and a SHA-256 of every output's float32 bytes. It never calls process.exit:
// the parent checks that the process ends by itself (the pthread workers must not keep it alive).
// With --exhaust it instead fills the 4 GiB wasm heap with 64 MiB tensors and prints the error that stops it
// (the threaded build must fail with OUT_OF_MEMORY, not spin) and whether the backend still computes afterwards.
// Usage: node threads-child.mjs --threads <n|auto> [--exhaust]
import { createHash } from "node:crypto";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { getThreadsCount } from "@tensorflow/tfjs-backend-wasm";
import { linear, selectBackend, selectedWasmThreads } from "../../../dist/index.js";

const { values } = parseArgs({ options: { threads: { type: "string" }, exhaust: { type: "boolean" } } });
const threads = values.threads === "auto" ? "auto" : Number(values.threads);
await selectBackend({ prefer: "wasm", threads, env: {}, log: (line) => process.stderr.write(`${line}\n`) });

if (values.exhaust) {
  const held = [];
  let error;
  try {
    for (let i = 0; i < 80; i++) held.push(tf.fill([16, 1024, 1024], i));
  } catch (caught) {
    error = caught;
  }
  const heldBytes = held.length * 64 * 2 ** 20;
  tf.dispose(held);
  const after = tf.tidy(() => tf.matMul(tf.ones([64, 64]), tf.ones([64, 64])).dataSync()[0]);
  process.stdout.write(
    `${JSON.stringify({ code: error?.code ?? null, message: error?.message ?? null, heldBytes, after })}\n`,
  );
} else {
  const hash = createHash("sha256");
  const outputs = tf.tidy(() => {
    const x = tf.randomUniform([300, 256], -1, 1, "float32", 1);
    const w = tf.randomUniform([256, 384], -1, 1, "float32", 2);
    const b = tf.randomUniform([384], -1, 1, "float32", 3);
    const loss = (xx, ww, bb) => linear(xx, ww, bb).square().mean();
    const [gx, gw, gb] = tf.grads(loss)([x, w, b]);
    const big = tf.matMul(
      tf.randomUniform([512, 512], -1, 1, "float32", 4),
      tf.randomUniform([512, 512], -1, 1, "float32", 5),
    );
    const image = tf.randomUniform([4, 17, 17, 24], -1, 1, "float32", 6);
    const depthwise = tf.depthwiseConv2d(
      image,
      tf.randomUniform([3, 3, 24, 2], -1, 1, "float32", 7),
      1,
      "same",
    );
    const conv = tf.conv2d(image, tf.randomUniform([4, 4, 24, 32], -1, 1, "float32", 8), 4, "valid");
    const soft = tf.softmax(linear(x, w, b));
    const { mean, variance } = tf.moments(soft, -1);
    return [linear(x, w, b), gx, gw, gb, big, depthwise, conv, soft, mean, variance];
  });
  for (const output of outputs) hash.update(new Uint8Array((await output.data()).buffer));
  tf.dispose(outputs);
  process.stdout.write(
    `${JSON.stringify({ threads: getThreadsCount(), selected: selectedWasmThreads(), sha256: hash.digest("hex") })}\n`,
  );
}
