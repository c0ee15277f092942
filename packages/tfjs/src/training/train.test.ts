import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adamW } from "./adamw";
import { listCheckpoints, loadCheckpoint } from "./checkpoint";
import { evaluate } from "./evaluate";
import { crossEntropy } from "./losses";
import { isNoWeightDecayParameter } from "./optimizer";
import { warmupCosineSchedule } from "./schedules";
import { sgd } from "./sgd";
import { type Batch, blobBatches, createMlp, makeBlobs } from "./test-support/mlp";
import { rejection } from "./test-support/rejection";
import { type StepEvent, type TrainOptions, train } from "./train";

const blobs = makeBlobs({ size: 96, dims: 8, classes: 3, seed: 11 });
const loss = (logits: tf.Tensor, batch: Batch) => crossEntropy(logits, batch.y, { labelSmoothing: 0.1 });
let dir: string;

beforeAll(async () => {
  await tf.setBackend("wasm");
  dir = await mkdtemp(join(tmpdir(), "kora-train-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Run = Partial<TrainOptions<Batch>> & { modelSeed?: number; dropout?: number };

/** Trains a fresh MLP and returns its final weights (bytes) plus the run's result; everything is disposed. */
async function run(options: Run = {}) {
  const { modelSeed = 1, dropout = 0.2, ...rest } = options;
  const mlp = createMlp({ inputs: 8, hidden: 16, classes: 3, seed: modelSeed, dropout });
  const optimizer = rest.optimizer ?? adamW({ learningRate: 0.02, weightDecay: 0.01 });
  try {
    const result = await train<Batch>({
      model: mlp,
      variables: mlp.variables,
      data: (context) => blobBatches(blobs, 16, context.seed),
      loss,
      optimizer,
      steps: 10,
      seed: 5,
      ...rest,
    });
    const weights = Object.fromEntries(
      Object.entries(mlp.variables).map(([name, v]) => [name, Buffer.from(v.dataSync().buffer)]),
    );
    return { result, weights };
  } finally {
    optimizer.dispose();
    mlp.dispose();
  }
}

function sameBytes(a: Record<string, Buffer>, b: Record<string, Buffer>): boolean {
  return (
    Object.keys(a).length === Object.keys(b).length &&
    Object.keys(a).every((k) => a[k]?.equals(b[k] as Buffer))
  );
}

describe("train", () => {
  it("learns a separable task on wasm, reports progress, and evaluate returns logits/predictions", async () => {
    const mlp = createMlp({ inputs: 8, hidden: 16, classes: 3, seed: 3, dropout: 0.1 });
    const optimizer = adamW({
      learningRate: 0.03,
      weightDecay: 0.05,
      groups: [{ match: isNoWeightDecayParameter, weightDecay: 0 }],
    });
    const schedule = warmupCosineSchedule({ warmupSteps: 3, totalSteps: 18 });
    const steps: StepEvent[] = [];
    const epochs: number[] = [];
    const evals: number[] = [];
    const result = await train<Batch>({
      model: mlp,
      variables: mlp.variables,
      data: (context) => blobBatches(blobs, 16, context.seed),
      loss,
      optimizer,
      schedule,
      epochs: 3,
      clipGradientNorm: 5,
      seed: 1,
      onStep: (e) => {
        steps.push(e);
      },
      onEpoch: (e) => {
        epochs.push(e.epoch);
        expect(Number.isFinite(e.meanLoss)).toBe(true);
      },
      onEval: (e) => {
        evals.push(e.result.metrics["accuracy"] as number);
      },
      evaluation: {
        data: () => blobBatches(blobs, 32),
        loss,
        labels: (batch) => batch.y,
        metrics: {
          accuracy: (r) => {
            const labels = r.labels as Int32Array;
            return (r.predictions as Int32Array).filter((p, i) => p === labels[i]).length / r.examples;
          },
        },
      },
    });
    expect(result.step).toBe(18);
    expect(result.epoch).toBe(3);
    expect(steps.map((e) => e.step)).toEqual(Array.from({ length: 18 }, (_, i) => i + 1));
    expect(steps.map((e) => e.learningRate)).toEqual(
      Array.from({ length: 18 }, (_, i) => 0.03 * schedule(i)),
    );
    expect(steps[0]?.totalSteps).toBeNull(); // unknown until the first epoch has been seen
    expect(steps[6]?.totalSteps).toBe(18);
    expect(steps[6]?.etaSeconds).toBeGreaterThanOrEqual(0);
    expect(steps.at(-1)?.etaSeconds).toBe(0);
    expect(steps.every((e) => e.imagesPerSecond > 0 && e.gradientNorm > 0)).toBe(true);
    expect((steps.at(-1)?.loss as number) < (steps[0]?.loss as number)).toBe(true);
    expect(epochs).toEqual([0, 1, 2]);
    expect(evals.length).toBe(3);
    expect(evals.at(-1)).toBeGreaterThan(0.95);

    const evaluation = await evaluate<Batch>({
      model: mlp,
      data: blobBatches(blobs, 40),
      loss,
      labels: (b) => b.y,
    });
    expect(evaluation.examples).toBe(96);
    expect(evaluation.outputs?.rows).toBe(96);
    expect(evaluation.outputs?.cols).toBe(3);
    expect(evaluation.outputs?.data.length).toBe(288);
    expect(evaluation.loss).toBeGreaterThan(0);
    const row = Array.from(evaluation.outputs?.data.subarray(0, 3) ?? []);
    expect(evaluation.predictions?.[0]).toBe(row.indexOf(Math.max(...row)));
    optimizer.dispose();
    mlp.dispose();
  });

  it("leaks no tensors: the count is constant from step to step and back to the start after disposal", async () => {
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    await run({
      steps: 8,
      accumulationSteps: 2,
      clipGradientNorm: 0.1,
      onStep: () => void counts.push(tf.memory().numTensors),
    });
    expect(counts.length).toBe(8);
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("gradient accumulation over 2×8 examples equals one step on the 16 (within 1e-6)", async () => {
    const data16 = () => blobBatches(blobs, 16);
    const data8 = () => blobBatches(blobs, 8);
    const big = await run({
      data: data16,
      steps: 3,
      dropout: 0,
      optimizer: sgd({ learningRate: 0.1, momentum: 0.9 }),
    });
    const small = await run({
      data: data8,
      steps: 3,
      dropout: 0,
      accumulationSteps: 2,
      optimizer: sgd({ learningRate: 0.1, momentum: 0.9 }),
    });
    const unaccumulated = await run({
      data: data8,
      steps: 3,
      dropout: 0,
      optimizer: sgd({ learningRate: 0.1, momentum: 0.9 }),
    });
    let maxDiff = 0;
    let maxDiffUnaccumulated = 0;
    for (const name of Object.keys(big.weights)) {
      const a = new Float32Array((big.weights[name] as Buffer).buffer.slice(0));
      const b = new Float32Array((small.weights[name] as Buffer).buffer.slice(0));
      const c = new Float32Array((unaccumulated.weights[name] as Buffer).buffer.slice(0));
      a.forEach((v, i) => {
        maxDiff = Math.max(maxDiff, Math.abs(v - (b[i] as number)));
        maxDiffUnaccumulated = Math.max(maxDiffUnaccumulated, Math.abs(v - (c[i] as number)));
      });
    }
    expect(maxDiff).toBeLessThan(1e-6);
    expect(maxDiffUnaccumulated).toBeGreaterThan(1e-3);
  });

  it("same seed on the same backend gives bit-identical weights (wasm and cpu); another seed does not", async () => {
    const options: Run = { steps: 14, dropout: 0.3, clipGradientNorm: 1, accumulationSteps: 2 };
    const a = await run({ ...options, seed: 9 });
    const b = await run({ ...options, seed: 9 });
    const c = await run({ ...options, seed: 10 });
    expect(sameBytes(a.weights, b.weights)).toBe(true);
    expect(sameBytes(a.weights, c.weights)).toBe(false);
    await tf.setBackend("cpu");
    try {
      const d = await run({ ...options, seed: 9 });
      const e = await run({ ...options, seed: 9 });
      expect(sameBytes(d.weights, e.weights)).toBe(true);
    } finally {
      await tf.setBackend("wasm");
    }
  });

  it("resuming from a checkpoint in another train() call reproduces the uninterrupted run bit for bit", async () => {
    const options: Run = { steps: 17, dropout: 0.3, clipGradientNorm: 1 };
    const whole = await run(options);
    const checkpointDir = join(dir, "resume");
    const first = await run({
      ...options,
      steps: 9,
      checkpoint: { dir: checkpointDir, everySteps: 2, keepLast: 2 },
    });
    expect(first.result.step).toBe(9);
    expect((await listCheckpoints(checkpointDir)).map((c) => c.step)).toEqual([8, 9]);
    const second = await run({ ...options, checkpoint: { dir: checkpointDir, everySteps: 2, keepLast: 2 } });
    expect(second.result.resumedFrom).toBe(9);
    expect(second.result.epoch).toBe(2); // 6 batches per epoch: step 17 is in epoch 2
    expect(sameBytes(whole.weights, second.weights)).toBe(true);
    expect((await listCheckpoints(checkpointDir)).map((c) => c.step)).toEqual([16, 17]);
    const latest = await loadCheckpoint(checkpointDir);
    expect(latest?.position.step).toBe(17);
    expect(Object.keys(latest?.optimizer.tensors ?? {}).sort()).toContain("head/kernel/exp_avg_sq");
  });

  it("reports a step before writing its checkpoint: dying in onStep resumes from the checkpoint before and replays it", async () => {
    const options: Run = { steps: 8, dropout: 0.3 };
    const whole = await run(options);
    const checkpointDir = join(dir, "report-first");
    const reported: number[] = [];
    await expect(
      run({
        ...options,
        checkpoint: { dir: checkpointDir, everySteps: 2, keepLast: 5 },
        onStep: async (event) => {
          reported.push(event.step);
          // When step 4 is reported, its checkpoint must not exist yet (only step 2's).
          if (event.step === 4) {
            expect((await listCheckpoints(checkpointDir)).map((c) => c.step)).toEqual([2]);
            throw new Error("the process dies right after logging step 4");
          }
        },
      }),
    ).rejects.toThrow(/dies right after logging step 4/);
    expect(reported).toEqual([1, 2, 3, 4]);
    expect((await listCheckpoints(checkpointDir)).map((c) => c.step)).toEqual([2]);
    const replayed: number[] = [];
    const second = await run({
      ...options,
      checkpoint: { dir: checkpointDir, everySteps: 2, keepLast: 5 },
      onStep: (event) => {
        replayed.push(event.step);
      },
    });
    expect(second.result.resumedFrom).toBe(2);
    expect(replayed).toEqual([3, 4, 5, 6, 7, 8]);
    expect(sameBytes(whole.weights, second.weights)).toBe(true);
  });

  it("an aborted signal stops after the current step with a checkpoint; resuming finishes bit for bit", async () => {
    const options: Run = { steps: 12, dropout: 0.3 };
    const whole = await run(options);
    const checkpointDir = join(dir, "abort");
    const controller = new AbortController();
    const first = await run({
      ...options,
      checkpoint: { dir: checkpointDir, everySteps: 100 },
      signal: controller.signal,
      onStep: (event) => {
        if (event.step === 5) controller.abort();
      },
    });
    expect(first.result.stopped).toBe(true);
    expect(first.result.step).toBe(5);
    expect((await listCheckpoints(checkpointDir)).map((c) => c.step)).toEqual([5]);
    const second = await run({ ...options, checkpoint: { dir: checkpointDir, everySteps: 100 } });
    expect(second.result.resumedFrom).toBe(5);
    expect(second.result.stopped).toBe(false);
    expect(sameBytes(whole.weights, second.weights)).toBe(true);
  });

  it("stops on a NaN loss with NON_FINITE naming the step; the last good checkpoint and the weights are untouched", async () => {
    const checkpointDir = join(dir, "nan");
    const mlp = createMlp({ inputs: 8, hidden: 16, classes: 3, seed: 1 });
    const optimizer = adamW({ learningRate: 0.01 });
    const poisoned = function* (): Generator<Batch> {
      let i = 0;
      for (const batch of blobBatches(blobs, 16)) {
        if (i++ === 4) {
          const x = batch.x;
          batch.x = tf.mul(x, Number.NaN) as tf.Tensor2D;
          x.dispose();
        }
        yield batch;
      }
    };
    let weightsAtStep4: Float32Array | undefined;
    const error = await rejection(
      train<Batch>({
        model: mlp,
        variables: mlp.variables,
        data: poisoned,
        loss,
        optimizer,
        steps: 20,
        checkpoint: { dir: checkpointDir, everySteps: 1, keepLast: 2 },
        onStep: async (e) => {
          // A step is reported before its checkpoint is written: the weights here are what step 4's file holds.
          if (e.step === 4)
            weightsAtStep4 = Float32Array.from(mlp.variables["head/kernel"]?.dataSync() ?? []);
        },
      }),
    );
    expect(error.code).toBe("NON_FINITE");
    expect(error.message).toMatch(/^step 5 \(epoch 0\): the loss is NaN/);
    expect(error.message).toContain("checkpoint-000000004.safetensors is untouched");
    const latest = await loadCheckpoint(checkpointDir);
    expect(latest?.position.step).toBe(4);
    expect(Array.from(latest?.variables["head/kernel"]?.data as Float32Array)).toEqual(
      Array.from(weightsAtStep4 ?? []),
    );
    expect(Array.from(mlp.variables["head/kernel"]?.dataSync() ?? [])).toEqual(
      Array.from(weightsAtStep4 ?? []),
    );
    optimizer.dispose();
    mlp.dispose();
  });

  it("stops on an infinite gradient with a finite loss", async () => {
    const w = tf.variable(tf.zeros([2]), true, "sqrt-at-zero");
    const optimizer = sgd({ learningRate: 0.1 });
    const error = await rejection(
      train<tf.Tensor>({
        model: () => tf.sqrt(w),
        variables: [w],
        data: () => [tf.zeros([1])],
        loss: (out) => tf.sum(out) as tf.Scalar,
        optimizer,
        steps: 3,
      }),
    );
    expect(error.code).toBe("NON_FINITE");
    expect(error.message).toMatch(/^step 1 .*gradient norm is (Infinity|NaN)/);
    expect(Array.from(w.dataSync())).toEqual([0, 0]);
    w.dispose();
  });

  it("a half-written checkpoint is never the latest; stale temp files are cleaned up", async () => {
    const checkpointDir = join(dir, "crash");
    await run({ steps: 3, checkpoint: { dir: checkpointDir, everySteps: 1, keepLast: 5 } });
    // What a crash mid-write leaves: a temp file (never a checkpoint name) — and, simulating a non-atomic writer,
    // even a truncated file with a checkpoint name is passed over because its manifest is written after it.
    await writeFile(join(checkpointDir, ".checkpoint-000000004.safetensors.tmp-1-abc"), "partial");
    await writeFile(join(checkpointDir, ".checkpoint-000000004.manifest.json.tmp-1-abc"), "partial");
    await writeFile(join(checkpointDir, "checkpoint-000000004.safetensors"), "partial");
    expect((await loadCheckpoint(checkpointDir))?.position.step).toBe(3);
    const warnings: string[] = [];
    const resumed = await run({
      steps: 5,
      checkpoint: { dir: checkpointDir, everySteps: 1, keepLast: 5 },
      onWarning: (w) => void warnings.push(`${w.kind} ${w.path}`),
    });
    expect(resumed.result.resumedFrom).toBe(3);
    expect(warnings).toEqual([
      `checkpoint-skipped ${join(checkpointDir, "checkpoint-000000004.safetensors")}`,
    ]);
    const names = await readdir(checkpointDir);
    expect(names.some((n) => n.includes(".tmp-"))).toBe(false);
    expect((await loadCheckpoint(checkpointDir))?.position.step).toBe(5);
    // latest.json is a pointer for people and tools, never trusted: one naming a file without a manifest is
    // passed over for the newest checkpoint that verifies.
    await writeFile(join(checkpointDir, "checkpoint-000000009.safetensors"), "partial");
    await writeFile(
      join(checkpointDir, "latest.json"),
      JSON.stringify({ file: "checkpoint-000000009.safetensors" }),
    );
    const latest = await loadCheckpoint(checkpointDir);
    expect(latest?.position.step).toBe(5);
    expect(latest?.skipped.map((s) => [s.step, s.reason])).toEqual([
      [9, "it has no manifest (its write did not complete)"],
    ]);
  });

  it("freezing a variable mid-run leaves it and its optimizer state untouched", async () => {
    const mlp = createMlp({ inputs: 8, hidden: 16, classes: 3, seed: 2 });
    const optimizer = adamW({ learningRate: 0.05 });
    const head = mlp.variables["head/kernel"] as tf.Variable;
    let frozen: number[] = [];
    await train<Batch>({
      model: mlp,
      variables: mlp.variables,
      data: () => blobBatches(blobs, 16),
      loss,
      optimizer,
      steps: 6,
      onStep: (e) => {
        if (e.step === 2) {
          head.trainable = false;
          frozen = Array.from(head.dataSync());
        }
      },
    });
    expect(Array.from(head.dataSync())).toEqual(frozen);
    expect(optimizer.stateJson().steps).toMatchObject({ "head/kernel": 2, "dense1/kernel": 6 });
    optimizer.dispose();
    mlp.dispose();
  });

  it("rejects bad options with clear codes", async () => {
    const w = tf.variable(tf.zeros([2]), false, "frozen-only");
    const base = {
      model: () => tf.sum(w),
      variables: [w],
      data: () => [tf.zeros([1])],
      loss: (out: tf.Tensor) => out as tf.Scalar,
      optimizer: sgd({ learningRate: 0.1 }),
    };
    expect((await rejection(train({ ...base }))).message).toMatch(/epochs or steps is required/);
    expect((await rejection(train({ ...base, steps: 1 }))).code).toBe("NO_TRAINABLE_VARIABLES");
    expect((await rejection(train({ ...base, steps: 1, accumulationSteps: 0 }))).path).toBe(
      "accumulationSteps",
    );
    w.trainable = true;
    const once = (function* () {
      yield tf.zeros([1]);
    })();
    const empty = await rejection(train({ ...base, data: once, epochs: 2 }));
    expect(empty.code).toBe("EMPTY_DATA");
    const checkpointDir = join(dir, "seed");
    await run({ steps: 1, checkpoint: { dir: checkpointDir } });
    expect((await rejection(run({ steps: 2, seed: 6, checkpoint: { dir: checkpointDir } }))).code).toBe(
      "CHECKPOINT_MISMATCH",
    );
    expect((await rejection(run({ steps: 2, checkpoint: { dir: checkpointDir, resume: false } }))).code).toBe(
      "CHECKPOINT_EXISTS",
    );
    w.dispose();
  });
});
