import { createHash } from "node:crypto";
import { cp, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adamW } from "./adamw";
import { type CheckpointManifest, listCheckpoints, loadCheckpoint } from "./checkpoint";
import { crossEntropy } from "./losses";
import { type Batch, blobBatches, createMlp, makeBlobs } from "./test-support/mlp";
import { rejection } from "./test-support/rejection";
import { type TrainOptions, type TrainWarning, train } from "./train";

// Checkpoints that verify and fall back: damage to the newest checkpoint (a flipped bit, an edited or renamed
// step, a truncated file, a broken manifest) makes the resume fall back to the previous checkpoint, with a
// warning, and still end byte-identical to the uninterrupted run; a checkpoint written by another configuration
// is refused; nothing valid left is CHECKPOINT_CORRUPT naming the file.

const blobs = makeBlobs({ size: 96, dims: 8, classes: 3, seed: 11 });
const loss = (logits: tf.Tensor, batch: Batch) => crossEntropy(logits, batch.y);
let root: string;

beforeAll(async () => {
  await tf.setBackend("cpu");
  root = await mkdtemp(join(tmpdir(), "kora-integrity-"));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

type Run = Partial<TrainOptions<Batch>> & { learningRate?: number };

/** Trains a fresh MLP (dropout 0.2) for 10 steps by default; returns its final weights and what it warned. */
async function run(options: Run = {}) {
  const { learningRate = 0.02, ...rest } = options;
  const mlp = createMlp({ inputs: 8, hidden: 16, classes: 3, seed: 1, dropout: 0.2 });
  const optimizer = adamW({ learningRate, weightDecay: 0.01 });
  const warnings: TrainWarning[] = [];
  try {
    const result = await train<Batch>({
      model: mlp,
      variables: mlp.variables,
      data: (context) => blobBatches(blobs, 16, context.seed),
      loss,
      optimizer,
      steps: 10,
      seed: 5,
      onWarning: (warning) => {
        warnings.push(warning);
      },
      ...rest,
    });
    const weights = Buffer.concat(
      Object.keys(mlp.variables)
        .sort()
        .map((name) => Buffer.from((mlp.variables[name] as tf.Variable).dataSync().buffer)),
    );
    return { result, weights, warnings };
  } finally {
    optimizer.dispose();
    mlp.dispose();
  }
}

let whole: Buffer;
let template: string; // a folder holding the checkpoints of steps 6 and 7 of the same run

beforeAll(async () => {
  whole = (await run()).weights;
  template = join(root, "template");
  await run({ steps: 7, checkpoint: { dir: template, everySteps: 1, keepLast: 2 } });
});

/** A fresh copy of the two-checkpoint folder. */
async function copy(name: string): Promise<string> {
  const dir = join(root, name);
  await cp(template, dir, { recursive: true });
  return dir;
}

const data = (dir: string, step: number) =>
  join(dir, `checkpoint-${String(step).padStart(9, "0")}.safetensors`);
const manifest = (dir: string, step: number) =>
  join(dir, `checkpoint-${String(step).padStart(9, "0")}.manifest.json`);

/** Resumes `dir` to step 10 and expects a fallback from step 7 to step 6 that still ends byte-identical. */
async function expectFallback(dir: string, reason: RegExp): Promise<void> {
  const resumed = await run({ checkpoint: { dir, everySteps: 1, keepLast: 2 } });
  expect(resumed.result.resumedFrom).toBe(6);
  expect(resumed.warnings.map((w) => w.kind)).toEqual(["checkpoint-skipped"]);
  const warning = resumed.warnings[0] as TrainWarning;
  expect(warning.path).toBe(data(dir, 7));
  expect(warning.message).toMatch(reason);
  expect(warning.message).toContain(`resuming from the older ${data(dir, 6)} (step 6)`);
  expect(resumed.weights.equals(whole)).toBe(true);
  const names = await readdir(dir);
  expect(names).toContain("checkpoint-000000007.safetensors.damaged");
  expect((await listCheckpoints(dir)).map((c) => c.step)).toEqual([9, 10]);
}

describe("checkpoint integrity", () => {
  it("each checkpoint has a manifest vouching for its bytes, step and run; a normal resume is byte-identical", async () => {
    const entries = await listCheckpoints(template);
    expect(entries.map((e) => e.step)).toEqual([6, 7]);
    const text = await readFile(manifest(template, 7), "utf8");
    const m = JSON.parse(text) as CheckpointManifest;
    const bytes = await readFile(data(template, 7));
    expect(m.step).toBe(7);
    expect(m.files["checkpoint-000000007.safetensors"]).toEqual({
      bytes: bytes.length,
      sha256: createHash("sha256").update(bytes).digest("hex"),
    });
    expect(m.config?.engine).toMatchObject({ seed: 5, accumulationSteps: 1, optimizer: "adamw" });
    expect(m.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    const dir = await copy("normal");
    const resumed = await run({ checkpoint: { dir, everySteps: 1, keepLast: 2 } });
    expect(resumed.result.resumedFrom).toBe(7);
    expect(resumed.warnings).toEqual([]);
    expect(resumed.weights.equals(whole)).toBe(true);
  });

  it("a flipped bit in the newest checkpoint's tensor data: falls back to the previous one, warns, ends identical", async () => {
    const dir = await copy("flip");
    const bytes = await readFile(data(dir, 7));
    const headerLength = Number(bytes.readBigUInt64LE(0));
    const offset = 8 + headerLength + 5; // inside the first tensor's float32 data
    bytes[offset] = (bytes[offset] as number) ^ 0x10;
    await writeFile(data(dir, 7), bytes);
    await expectFallback(dir, /SHA-256 differs from its manifest/);
  });

  it("an edited step (in the data's metadata, in the manifest, or by renaming both files) is detected", async () => {
    const inData = await copy("edit-data");
    const text = (await readFile(data(inData, 7))).toString("latin1");
    expect(text).toContain('\\"step\\":7,');
    await writeFile(data(inData, 7), Buffer.from(text.replace('\\"step\\":7,', '\\"step\\":9,'), "latin1"));
    await expectFallback(inData, /SHA-256 differs/);

    const inManifest = await copy("edit-manifest");
    const m = JSON.parse(await readFile(manifest(inManifest, 7), "utf8")) as CheckpointManifest;
    await writeFile(manifest(inManifest, 7), JSON.stringify({ ...m, step: 8 }));
    // Renamed to step 8 while the manifest (and data) say 7: a different mismatch, same fallback.
    const renamed = await copy("rename");
    await rename(data(renamed, 7), data(renamed, 8));
    await rename(manifest(renamed, 7), manifest(renamed, 8));
    const fromManifest = await run({ checkpoint: { dir: inManifest, everySteps: 1, keepLast: 2 } });
    expect(fromManifest.result.resumedFrom).toBe(6);
    expect(fromManifest.warnings[0]?.message).toMatch(/does not match its own checksum/);
    expect(fromManifest.weights.equals(whole)).toBe(true);
    const fromRename = await run({ checkpoint: { dir: renamed, everySteps: 1, keepLast: 2 } });
    expect(fromRename.result.resumedFrom).toBe(6);
    expect(fromRename.warnings[0]?.message).toMatch(/manifest says step 7, its file name 8/);
    expect(fromRename.weights.equals(whole)).toBe(true);
  });

  it("a truncated checkpoint, a data file without its manifest, or an oversized manifest: falls back", async () => {
    const truncated = await copy("truncated");
    const bytes = await readFile(data(truncated, 7));
    await writeFile(data(truncated, 7), bytes.subarray(0, bytes.length >> 1));
    await expectFallback(truncated, /is \d+ bytes, its manifest says \d+/);

    const torn = await copy("torn");
    await rm(manifest(torn, 7));
    await expectFallback(torn, /has no manifest/);

    const huge = await copy("huge");
    await writeFile(manifest(huge, 7), Buffer.alloc(5 * 1024 * 1024, 0x20));
    await expectFallback(huge, /more than a manifest can be/);

    // A manifest nested 200 000 deep (1.2 MB): damage, not a stack overflow.
    const deep = await copy("deep");
    const m = JSON.parse(await readFile(manifest(deep, 7), "utf8")) as CheckpointManifest;
    const nested = `${"[".repeat(200_000)}${"]".repeat(200_000)}`;
    const text = JSON.stringify({ ...m, config: { engine: { x: 0 }, caller: null } }).replace(
      "0}",
      `${nested}}`,
    );
    await writeFile(manifest(deep, 7), text);
    await expectFallback(deep, /nested too deeply/);
  });

  it("nothing left that verifies: CHECKPOINT_CORRUPT naming the newest damaged file and why", async () => {
    const dir = await copy("all-bad");
    for (const step of [6, 7]) {
      const bytes = await readFile(data(dir, step));
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1;
      await writeFile(data(dir, step), bytes);
    }
    const error = await rejection(run({ checkpoint: { dir } }));
    expect(error.code).toBe("CHECKPOINT_CORRUPT");
    expect(error.path).toBe(data(dir, 7));
    expect(error.message).toContain(`${data(dir, 7)}: its SHA-256 differs from its manifest`);
    expect(error.message).toContain("checkpoint-000000006.safetensors: its SHA-256 differs");
    // Nothing was renamed or overwritten by the refusal.
    expect((await listCheckpoints(dir)).map((c) => c.step)).toEqual([6, 7]);
  });

  it("a checkpoint written by another configuration with the same seed is refused, not resumed or skipped", async () => {
    const lr = await copy("foreign-lr");
    const byEngine = await rejection(run({ learningRate: 0.05, checkpoint: { dir: lr } }));
    expect(byEngine.code).toBe("CHECKPOINT_MISMATCH");
    expect(byEngine.path).toBe("variables");
    expect(byEngine.message).toContain(data(lr, 7));

    const seed = await copy("foreign-seed");
    const bySeed = await rejection(run({ seed: 6, checkpoint: { dir: seed } }));
    expect(bySeed.code).toBe("CHECKPOINT_MISMATCH");
    expect(bySeed.message).toContain("seed: the checkpoint's run has 5, this run 6");

    // The caller's description of the run (spec, backbone, config) is part of the fingerprint.
    const described = join(root, "described");
    const fingerprint = { spec: { method: "lora", rank: 4 }, backbone: "sha256:abc" };
    await run({ steps: 3, checkpoint: { dir: described, everySteps: 1, fingerprint } });
    const other = { ...fingerprint, spec: { method: "lora", rank: 8 } };
    const byCaller = await rejection(run({ checkpoint: { dir: described, fingerprint: other } }));
    expect(byCaller.code).toBe("CHECKPOINT_MISMATCH");
    expect(byCaller.path).toBe("checkpoint.fingerprint");
    // Key order does not matter; the same description resumes.
    const same = await run({
      checkpoint: {
        dir: described,
        fingerprint: { backbone: "sha256:abc", spec: { rank: 4, method: "lora" } },
      },
    });
    expect(same.result.resumedFrom).toBe(3);
    expect(same.weights.equals(whole)).toBe(true);
    const cyclic: Record<string, unknown> = {};
    cyclic["self"] = cyclic;
    for (const bad of [cyclic, () => 0, { n: 1n }]) {
      const error = await rejection(
        run({ checkpoint: { dir: join(root, "bad-fingerprint"), fingerprint: bad } }),
      );
      expect(error.code).toBe("INVALID_ARGUMENT");
      expect(error.path).toBe("checkpoint.fingerprint");
    }
  });

  it("killed during the first checkpoint (its data file written, no manifest, no latest.json): starts afresh", async () => {
    const dir = join(root, "first-write");
    await run({ steps: 1, checkpoint: { dir, everySteps: 1 } });
    await rm(manifest(dir, 1));
    await rm(join(dir, "latest.json"));
    expect(await loadCheckpoint(dir)).toBeNull();
    const fresh = await run({ checkpoint: { dir, everySteps: 1, keepLast: 2 } });
    expect(fresh.result.resumedFrom).toBeNull();
    expect(fresh.weights.equals(whole)).toBe(true);
  });

  it("a folder written before manifests existed resumes unverified, with a warning", async () => {
    const dir = await copy("legacy");
    for (const step of [6, 7]) await rm(manifest(dir, step));
    const resumed = await run({ checkpoint: { dir, everySteps: 1, keepLast: 2 } });
    expect(resumed.result.resumedFrom).toBe(7);
    expect(resumed.warnings.map((w) => w.kind)).toEqual(["checkpoint-unverified"]);
    expect(resumed.weights.equals(whole)).toBe(true);
    expect((await loadCheckpoint(dir))?.manifest).not.toBeNull();
  });
});
