import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as spec from "@kora/spec/node";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { adamW } from "./adamw";
import { listCheckpoints, loadCheckpoint } from "./checkpoint";
import { crossEntropy } from "./losses";
import { type Batch, blobBatches, createMlp, makeBlobs } from "./test-support/mlp";
import { rejection } from "./test-support/rejection";
import { train } from "./train";

// A full disk, injected: the atomic writer fails with ENOSPC on a chosen file, as it would on a full filesystem
// (after removing its temporary file). The run stops with DISK_FULL naming the file and the intact checkpoint.
vi.mock("@kora/spec/node", async (importOriginal) => {
  const actual = await importOriginal<typeof import("@kora/spec/node")>();
  return { ...actual, writeFileAtomic: vi.fn(actual.writeFileAtomic) };
});

const blobs = makeBlobs({ size: 96, dims: 8, classes: 3, seed: 11 });
let root: string;

beforeAll(async () => {
  await tf.setBackend("cpu");
  root = await mkdtemp(join(tmpdir(), "kora-disk-full-"));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Makes the writer fail with `code` for every path `failing` accepts, from now on. */
async function failWrites(failing: (path: string) => boolean, code: string): Promise<void> {
  const actual = await vi.importActual<typeof import("@kora/spec/node")>("@kora/spec/node");
  vi.mocked(spec.writeFileAtomic).mockImplementation(async (path, data) => {
    if (failing(path)) {
      throw Object.assign(new Error(`${code}: injected failure, write '${path}'`), { code });
    }
    return actual.writeFileAtomic(path, data);
  });
}

async function run(dir: string, steps: number) {
  const mlp = createMlp({ inputs: 8, hidden: 16, classes: 3, seed: 1, dropout: 0.2 });
  const optimizer = adamW({ learningRate: 0.02 });
  try {
    return await train<Batch>({
      model: mlp,
      variables: mlp.variables,
      data: (context) => blobBatches(blobs, 16, context.seed),
      loss: (logits, batch) => crossEntropy(logits, batch.y),
      optimizer,
      steps,
      seed: 5,
      checkpoint: { dir, everySteps: 1, keepLast: 2 },
    });
  } finally {
    optimizer.dispose();
    mlp.dispose();
  }
}

describe("a checkpoint write that fails", () => {
  it("ENOSPC on the manifest of step 4: DISK_FULL naming the file and the intact step-3 checkpoint; no orphan", async () => {
    const dir = join(root, "manifest");
    await failWrites((path) => path.endsWith("checkpoint-000000004.manifest.json"), "ENOSPC");
    const error = await rejection(run(dir, 6));
    expect(error.code).toBe("DISK_FULL");
    expect(error.path).toBe(join(dir, "checkpoint-000000004.manifest.json"));
    expect(error.message).toContain("the disk is full (ENOSPC)");
    expect(error.message).toContain(
      `the last complete checkpoint ${join(dir, "checkpoint-000000003.safetensors")} (step 3) is intact`,
    );
    // The data file of step 4 was removed with its failed manifest; step 3 verifies.
    expect((await listCheckpoints(dir)).map((c) => c.step)).toEqual([2, 3]);
    expect((await readdir(dir)).some((name) => name.includes(".tmp-"))).toBe(false);
    const latest = await loadCheckpoint(dir);
    expect(latest?.position.step).toBe(3);
    expect(latest?.skipped).toEqual([]);

    // Space again: the rerun resumes from step 3 and finishes.
    await failWrites(() => false, "ENOSPC");
    const resumed = await run(dir, 6);
    expect(resumed.resumedFrom).toBe(3);
    expect(resumed.step).toBe(6);
  });

  it("another failure on the first data file: IO_ERROR naming it, and saying no checkpoint was completed", async () => {
    const dir = join(root, "first");
    await failWrites((path) => path.endsWith(".safetensors"), "EACCES");
    const error = await rejection(run(dir, 2));
    expect(error.code).toBe("IO_ERROR");
    expect(error.path).toBe(join(dir, "checkpoint-000000001.safetensors"));
    expect(error.message).toContain("(EACCES)");
    expect(error.message).toContain("no checkpoint of this run was completed before it");
    await failWrites(() => false, "EACCES");
  });
});
