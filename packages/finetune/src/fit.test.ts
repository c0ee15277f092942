import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KoraError, parseAdapterSpec } from "@kora/spec";
import { describe, expect, it } from "vitest";
import { finetune, plannedSteps } from "./fit";
import { backboneChecksum, countTrainable, modelVariables, prepareModel } from "./model";
import { classificationTask } from "./tasks/classification";
import { depthTask } from "./tasks/depth";
import { tinyClassification, tinyDepth, tinyViT } from "./test-support/tiny";

const lora = { kind: "adapter" as const, spec: parseAdapterSpec({ method: "lora", rank: 2, alpha: 4 }) };

async function depthRun(
  seed: number,
): Promise<{ weights: Map<string, number[]>; backbone: number[]; loss: number[] }> {
  const vit = tinyViT(1);
  const task = depthTask({ range: [0.5, 10] });
  prepareModel(vit, task, lora, seed);
  const before = backboneChecksum(vit);
  const loss: number[] = [];
  const result = await finetune({
    vit,
    task,
    dataset: tinyDepth(10),
    batchSize: 4,
    epochs: 2,
    learningRate: 3e-3,
    warmupSteps: 1,
    seed,
    onStep: (event) => {
      loss.push(event.loss);
    },
  });
  expect(result.totalSteps).toBe(6);
  expect(result.step).toBe(6);
  expect(backboneChecksum(vit)).toBe(before);
  const weights = new Map([...modelVariables(vit)].map(([name, v]) => [name, Array.from(v.dataSync())]));
  vit.dispose();
  return { weights, backbone: [before], loss };
}

describe("countTrainable", () => {
  it("counts the adapter and the head (a depth head too), the whole model for full fine-tuning", () => {
    const vit = tinyViT(1);
    const classes = prepareModel(vit, classificationTask({ classes: 10 }), { kind: "head-only" }, 0);
    expect(classes).toBeNull();
    const head = countTrainable(vit, { kind: "head-only" });
    expect(head.trainable).toBe(24 * 10 + 10);
    expect(countTrainable(vit, { kind: "full" }).fraction).toBe(1);
    prepareModel(vit, depthTask(), { kind: "head-only" }, 0);
    const depth = countTrainable(vit, { kind: "head-only" });
    // The depth head maps each token to a 4 × 4 patch of depths: 24 × 16 weights and 16 biases.
    expect(depth.trainable).toBe(24 * 16 + 16);
    expect(depth.total).toBe(head.total - 250 + 400);
    vit.dispose();
  });
});

describe("finetune", () => {
  it("gives the same weights for the same options and seed, other weights for another seed", async () => {
    const a = await depthRun(5);
    const b = await depthRun(5);
    const c = await depthRun(6);
    expect(a.loss.every(Number.isFinite)).toBe(true);
    expect([...a.weights.keys()].some((name) => name.startsWith("adapter."))).toBe(true);
    expect(a.weights).toEqual(b.weights);
    expect(a.weights.get("depth_head.projection.weight")).not.toEqual(
      c.weights.get("depth_head.projection.weight"),
    );
  });

  it("resumes from a checkpoint onto the very same weights as an uninterrupted run", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kora-finetune-resume-"));
    const run = async (steps: number, checkpoint?: string, stopAfter?: number) => {
      const stop = new AbortController();
      const vit = tinyViT(1);
      const task = classificationTask({ classes: 10 });
      prepareModel(vit, task, lora, 2);
      await finetune({
        vit,
        task,
        dataset: tinyClassification(20),
        batchSize: 6,
        steps,
        learningRate: 3e-3,
        seed: 2,
        ...(checkpoint === undefined ? {} : { checkpoint: { dir: checkpoint, everySteps: 1 } }),
        signal: stop.signal,
        onStep: (event) => {
          if (event.step === stopAfter) stop.abort();
        },
      });
      const weights = new Map([...modelVariables(vit)].map(([name, v]) => [name, Array.from(v.dataSync())]));
      vit.dispose();
      return weights;
    };
    try {
      const straight = await run(5);
      await run(5, dir, 3); // stopped after step 3 (the middle of the first epoch), checkpointed
      const resumed = await run(5, dir);
      expect(resumed).toEqual(straight);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses to resume a checkpoint with other data or another batch size, with no caller fingerprint", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kora-finetune-mismatch-"));
    const run = async (options: { batchSize?: number; indices?: number[]; steps?: number }) => {
      const vit = tinyViT(1);
      const task = classificationTask({ classes: 10 });
      prepareModel(vit, task, lora, 2);
      try {
        return await finetune({
          vit,
          task,
          dataset: tinyClassification(20),
          batchSize: options.batchSize ?? 6,
          ...(options.indices === undefined ? {} : { indices: options.indices }),
          steps: options.steps ?? 2,
          learningRate: 3e-3,
          seed: 2,
          checkpoint: { dir, everySteps: 1 },
        });
      } finally {
        vit.dispose();
      }
    };
    const mismatch = (error: unknown) => KoraError.isInstance(error) && error.code === "CHECKPOINT_MISMATCH";
    try {
      const subset = [0, 2, 4, 6, 8, 10, 12, 14];
      await run({ indices: subset });
      await expect(run({ indices: subset, batchSize: 4, steps: 3 })).rejects.toSatisfy(mismatch);
      await expect(run({ indices: [1, ...subset.slice(1)], steps: 3 })).rejects.toSatisfy(mismatch);
      await expect(run({ steps: 3 })).rejects.toSatisfy(mismatch);
      // The same run, lengthened, resumes.
      expect(await run({ indices: subset, steps: 3 })).toMatchObject({ resumedFrom: 2, step: 3 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("counts steps as epochs × ⌈examples / batch⌉, or steps when fewer", () => {
    expect(plannedSteps(10, { batchSize: 4, epochs: 3 })).toBe(9);
    expect(plannedSteps(10, { batchSize: 4, epochs: 3, steps: 5 })).toBe(5);
    expect(plannedSteps(10, { batchSize: 4, steps: 7 })).toBe(7);
  });

  it("rejects a dataset of another task (TASK_MISMATCH) and a run without length (INVALID_ARGUMENT)", async () => {
    const vit = tinyViT(1);
    const task = classificationTask({ classes: 10 });
    prepareModel(vit, task, { kind: "head-only" }, 0);
    const base = { vit, task, batchSize: 4, learningRate: 1e-3, seed: 0 };
    const withCode = (code: string) => (error: unknown) => KoraError.isInstance(error) && error.code === code;
    await expect(finetune({ ...base, dataset: tinyDepth(4), steps: 1 })).rejects.toSatisfy(
      withCode("TASK_MISMATCH"),
    );
    await expect(finetune({ ...base, dataset: tinyClassification(8) })).rejects.toSatisfy(
      withCode("INVALID_ARGUMENT"),
    );
    await expect(
      finetune({ ...base, dataset: tinyClassification(8), steps: 1, clipGradientNorm: 0 }),
    ).rejects.toSatisfy(withCode("INVALID_ARGUMENT"));
    vit.dispose();
  });
});
