import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Preset, resolvePreset } from "../config/presets";
import { main } from "../main";
import { curveJournal, newestCheckpointStep } from "../tasks/curve-journal";
import { bullConnection } from "./connection";
import { enqueuePlan } from "./enqueue";
import { parseQueueUrl } from "./redis-url";
import { builtCli, spawnNode } from "./test-support/cli-process";
import { redisTestsEnabled, startRedis, type TestRedis } from "./test-support/redis-server";

const enabled = redisTestsEnabled();
const dir = mkdtempSync(join(tmpdir(), "kora-repro-queue-fault-"));
let redis: TestRedis;

beforeAll(async () => {
  if (enabled) redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The smoke preset with source runs long enough to checkpoint several times (every 30 of 120 steps). */
function longSmoke(): Preset {
  const smoke = resolvePreset("smoke");
  return { ...smoke, source: { ...smoke.source, steps: 120 } };
}

/** Runs one worker process on `queueName` until the queue is empty; returns its output. */
async function drain(queueName: string): Promise<string> {
  const worker = spawnNode(builtCli(), [
    "worker",
    "--queue",
    redis.url,
    "--queue-name",
    queueName,
    "--until-empty",
    "--lock-seconds",
    "2",
  ]);
  expect(await worker.exited(240_000), worker.output()).toBe(0);
  return worker.output();
}

const essence = (path: string) => {
  const { metrics, curve, extra, status, error } = JSON.parse(readFileSync(path, "utf8"));
  return { metrics, curve, extra, status, error };
};

/** SHA-256 of every file in a folder, by name. */
const digests = (folder: string) =>
  Object.fromEntries(
    readdirSync(folder)
      .sort()
      .map((name) => [
        name,
        createHash("sha256")
          .update(readFileSync(join(folder, name)))
          .digest("hex"),
      ]),
  );

describe.runIf(enabled)("faults", () => {
  it("a worker killed mid-run: its job is found stalled, resumed from the checkpoint on another worker, and ends bit-identical to an uninterrupted run", {
    timeout: 300_000,
  }, async () => {
    const preset = longSmoke();
    const plan = { queue: redis.url, preset, only: ["4.1"], seeds: 1, write: () => {} };
    const reference = join(dir, "reference");
    await enqueuePlan({ ...plan, queueName: "reference", out: reference });
    await drain("reference");

    const faulted = join(dir, "faulted");
    const summary = await enqueuePlan({ ...plan, queueName: "faulted", out: faulted });
    expect(summary.total).toBeGreaterThan(4);
    const first = spawnNode(builtCli(), [
      "worker",
      "--queue",
      redis.url,
      "--queue-name",
      "faulted",
      "--lock-seconds",
      "2",
    ]);
    // Wait (bounded: 3000 looks × 20 ms) until a run has a checkpoint and has trained past it, then kill its worker.
    let killed = "";
    for (let look = 0; look < 3000 && killed === ""; look++) {
      const checkpoints = join(faulted, "checkpoints");
      // A KoRA run: its record holds the gates' path as well as the loss curve, both of which must survive.
      for (const key of existsSync(checkpoints)
        ? readdirSync(checkpoints).filter((k) => k.startsWith("source-kora"))
        : []) {
        const saved = newestCheckpointStep(join(checkpoints, key));
        if (saved !== null && curveJournal(join(checkpoints, key)).covers(saved + 1)) killed = key;
      }
      if (killed === "") await new Promise((done) => setTimeout(done, 20));
    }
    first.child.kill("SIGKILL");
    await first.exited(10_000);
    expect(killed, first.output()).not.toBe("");
    const key = killed;
    expect(existsSync(join(faulted, "runs", `${key}.json`)), "the run completed before the kill").toBe(false);

    const output = await drain("faulted");
    expect(output).toMatch(new RegExp(`${key}: resumed from the checkpoint at step (30|60|90)`));
    const queue = new Queue("faulted", { connection: bullConnection(parseQueueUrl(redis.url)) });
    try {
      const job = await queue.getJob(key);
      expect(await job?.getState()).toBe("completed");
      expect(job?.stalledCounter).toBeGreaterThanOrEqual(1);
    } finally {
      await queue.close();
    }
    const names = readdirSync(join(reference, "runs")).filter((n) => n.endsWith(".json"));
    expect(
      readdirSync(join(faulted, "runs"))
        .filter((n) => n.endsWith(".json"))
        .sort(),
    ).toEqual(names.sort());
    for (const name of names) {
      expect(essence(join(faulted, "runs", name)), name).toEqual(essence(join(reference, "runs", name)));
    }
    // The trained model itself, byte for byte, and the run's whole loss curve (120 steps) despite the restart.
    expect(digests(join(faulted, "artifacts", key))).toEqual(digests(join(reference, "artifacts", key)));
    expect(essence(join(faulted, "runs", `${key}.json`)).curve.map((p: { step: number }) => p.step)).toEqual(
      Array.from({ length: 120 }, (_, i) => i + 1),
    );
    const gatePath = essence(join(faulted, "runs", `${key}.json`)).extra.gateTrajectory;
    expect(gatePath.steps[0]).toBeLessThanOrEqual(30);
    expect(gatePath.steps.at(-1)).toBe(120);
  });

  it("a run that fails every time is tried the bounded number of times with backoff, then recorded failed and reported", {
    timeout: 180_000,
  }, async () => {
    const smoke = resolvePreset("smoke");
    const empty = join(dir, "no-data");
    mkdirSync(empty, { recursive: true });
    // Data that is not there: every attempt fails the same way.
    const preset: Preset = { ...smoke, source: { ...smoke.source, dataset: "fashion-mnist", root: empty } };
    const out = join(dir, "failing");
    await enqueuePlan({
      queue: redis.url,
      queueName: "failing",
      preset,
      only: ["4.1"],
      seeds: 1,
      out,
      attempts: 3,
      backoffMs: 200,
      write: () => {},
    });
    await drain("failing");
    const queue = new Queue("failing", { connection: bullConnection(parseQueueUrl(redis.url)) });
    try {
      const failed = await queue.getFailed();
      expect(failed.length).toBeGreaterThan(4);
      expect(await queue.getJobCounts("completed", "waiting", "delayed", "active")).toMatchObject({
        completed: 0,
        waiting: 0,
        delayed: 0,
        active: 0,
      });
      for (const job of failed) {
        expect(job.attemptsMade, job.id).toBe(3);
        // Two backoffs of 200 ms and 400 ms lie between the first attempt and the last.
        expect((job.finishedOn ?? 0) - job.timestamp, job.id).toBeGreaterThanOrEqual(600);
        const result = JSON.parse(readFileSync(join(out, "runs", `${job.id}.json`), "utf8"));
        expect(result.status).toBe("failed");
        expect(result.error.code).toBe("DATASET_NOT_FOUND");
      }
    } finally {
      await queue.close();
    }
    let stdout = "";
    let stderr = "";
    const code = await main(["report", "--queue", redis.url, "--queue-name", "failing"], {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
    });
    expect(code, stderr).toBe(1);
    expect(stderr).toMatch(/done 0 · running 0 · failed \d+ · waiting 0/);
    expect(readFileSync(stdout.trim().split("\n")[0] as string, "utf8")).toMatch(/failed/);
  });
});
