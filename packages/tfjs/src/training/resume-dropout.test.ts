import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AdapterSpecInput, applyAdapters, removeAdapters } from "../adapters";
import { TINY_SHAPE, TinyTransformer, tinyBatch } from "../adapters/test-support/tiny-transformer";
import { adamW } from "./adamw";
import { crossEntropy } from "./losses";
import { SeededRandom } from "./random";
import { type TrainOptions, train } from "./train";

// Exact resume of adapters trained WITH dropout: the adapter's masks must not depend on how many forward passes
// this process happened to make before, so a fresh model resumed from a checkpoint sees the masks the
// uninterrupted run saw.

interface Batch {
  x: tf.Tensor3D;
  y: tf.Tensor1D;
}

const EXAMPLES = 48;
const BATCH = 8; // 6 batches per epoch
let inputs: tf.Tensor3D;
let labels: Int32Array;
let dir: string;

beforeAll(async () => {
  await tf.setBackend("cpu");
  inputs = tinyBatch(TINY_SHAPE, EXAMPLES, 21);
  labels = Int32Array.from({ length: EXAMPLES }, (_, i) => (i * 7) % TINY_SHAPE.numClasses);
  dir = await mkdtemp(join(tmpdir(), "kora-resume-dropout-"));
});

afterAll(async () => {
  inputs.dispose();
  await rm(dir, { recursive: true, force: true });
});

function* batches(seed: number): Generator<Batch> {
  const order = new SeededRandom(seed).permutation(EXAMPLES);
  for (let start = 0; start < EXAMPLES; start += BATCH) {
    const idx = Array.from(order.subarray(start, start + BATCH));
    const indices = tf.tensor1d(idx, "int32");
    yield {
      x: tf.gather(inputs, indices) as tf.Tensor3D,
      y: tf.tensor1d(
        Int32Array.from(idx, (i) => labels[i] as number),
        "int32",
      ),
    };
    indices.dispose();
  }
}

type Run = Partial<TrainOptions<Batch>> & { spec: AdapterSpecInput };

/** Trains a FRESH model + adapter (as a new process would) and returns the adapter's and head's bytes. */
async function run(options: Run): Promise<{ bytes: Record<string, Buffer>; resumedFrom: number | null }> {
  const { spec, ...rest } = options;
  const model = new TinyTransformer(TINY_SHAPE, 7);
  const handle = applyAdapters(model, spec, { seed: 3 });
  const variables: Record<string, tf.Variable> = {};
  for (const [name, variable] of handle.adapterVariables()) variables[`adapter/${name}`] = variable;
  model.headVariables().forEach((variable, i) => {
    variables[`head/${i}`] = variable;
  });
  const optimizer = adamW({ learningRate: 0.05, weightDecay: 0.01 });
  try {
    const result = await train<Batch>({
      model: (batch, context) => model.predict(batch.x, context.training),
      variables,
      data: (context) => batches(context.seed),
      loss: (logits, batch) => crossEntropy(logits, batch.y),
      optimizer,
      steps: 14,
      accumulationSteps: 2,
      seed: 4,
      ...rest,
    });
    const bytes = Object.fromEntries(
      Object.entries(variables).map(([name, v]) => [name, Buffer.from(v.dataSync().buffer)]),
    );
    return { bytes, resumedFrom: result.resumedFrom };
  } finally {
    optimizer.dispose();
    removeAdapters(model);
    model.dispose();
  }
}

function differing(a: Record<string, Buffer>, b: Record<string, Buffer>): string[] {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  return Object.keys(a).filter((name) => !(a[name] as Buffer).equals(b[name] as Buffer));
}

const methods: Record<string, (dropout: number) => AdapterSpecInput> = {
  lora: (dropout) => ({ method: "lora", rank: 2, dropout, targets: ["query", "value", "fc1"] }),
  kora: (dropout) => ({ method: "kora", rank: 2, dropout }),
  "gated-bottleneck": (dropout) => ({ method: "gated-bottleneck", hidden: 4, dropout }),
  "gated-lora": (dropout) => ({ method: "gated-lora", rank: 2, dropout, targets: ["query", "value", "fc1"] }),
};

describe("exact resume with adapter dropout (in process, fresh model on resume)", () => {
  for (const [method, specWith] of Object.entries(methods)) {
    it(`${method}, dropout 0.2: stopped at step 5 (abort) or 9 (end of a shorter run) then resumed = uninterrupted, byte for byte`, async () => {
      const spec = specWith(0.2);
      const whole = await run({ spec });
      const again = await run({ spec });
      expect(differing(whole.bytes, again.bytes)).toEqual([]);
      // Dropout is live: the same run without it ends elsewhere.
      const noDropout = await run({ spec: specWith(0) });
      expect(differing(whole.bytes, noDropout.bytes).length).toBeGreaterThan(0);

      // Ctrl-C: an aborted signal after step 5, resumed in a fresh model.
      const abortDir = join(dir, `${method}-abort`);
      const controller = new AbortController();
      const stopped = await run({
        spec,
        checkpoint: { dir: abortDir, everySteps: 100 },
        signal: controller.signal,
        onStep: (event) => {
          if (event.step === 5) controller.abort();
        },
      });
      expect(stopped.resumedFrom).toBeNull();
      const resumed = await run({ spec, checkpoint: { dir: abortDir } });
      expect(resumed.resumedFrom).toBe(5);
      expect(differing(whole.bytes, resumed.bytes)).toEqual([]);

      // A kill after the checkpoint of step 9 (mid-epoch), resumed in a fresh model.
      const killDir = join(dir, `${method}-kill`);
      await run({ spec, steps: 9, checkpoint: { dir: killDir, everySteps: 1, keepLast: 2 } });
      const finished = await run({ spec, checkpoint: { dir: killDir, everySteps: 1, keepLast: 2 } });
      expect(finished.resumedFrom).toBe(9);
      expect(differing(whole.bytes, finished.bytes)).toEqual([]);
    });
  }

  it("adapter-fusion (no dropout in the method): stopped at step 9 and resumed = uninterrupted, byte for byte", async () => {
    const spec: AdapterSpecInput = { method: "adapter-fusion", reduction: 4 };
    const whole = await run({ spec });
    const dir9 = join(dir, "fusion-kill");
    await run({ spec, steps: 9, checkpoint: { dir: dir9, everySteps: 1, keepLast: 2 } });
    const finished = await run({ spec, checkpoint: { dir: dir9, everySteps: 1, keepLast: 2 } });
    expect(finished.resumedFrom).toBe(9);
    expect(differing(whole.bytes, finished.bytes)).toEqual([]);
  });
});
