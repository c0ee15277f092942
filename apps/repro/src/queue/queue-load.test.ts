import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bullConnection } from "./connection";
import { parseQueueUrl } from "./redis-url";
import { builtCli, spawnNode } from "./test-support/cli-process";
import { redisTestsEnabled, startRedis, type TestRedis } from "./test-support/redis-server";

const enabled = redisTestsEnabled();
const root = mkdtempSync(join(tmpdir(), "kora-repro-queue-load-"));
let redis: TestRedis;

beforeAll(async () => {
  if (enabled) redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
  rmSync(root, { recursive: true, force: true });
});

const JOBS = 500;
const WORKERS = 4;

describe.runIf(enabled)("load", () => {
  it(`${JOBS} tiny jobs through ${WORKERS} worker processes: none lost, none done twice`, {
    timeout: 180_000,
  }, async () => {
    builtCli();
    const keys = Array.from({ length: JOBS }, (_, i) => `tiny-${String(i).padStart(3, "0")}`);
    const queue = new Queue("load", { connection: bullConnection(parseQueueUrl(redis.url)) });
    try {
      await queue.addBulk(keys.map((key) => ({ name: "tiny", data: {}, opts: { jobId: key, attempts: 3 } })));
      // The same ids again: BullMQ keeps the first, so the queue still holds 500.
      await queue.addBulk(keys.slice(0, 50).map((key) => ({ name: "tiny", data: {}, opts: { jobId: key } })));
      const script = join(import.meta.dirname, "test-support", "tiny-worker.mjs");
      const workers = Array.from({ length: WORKERS }, () =>
        spawnNode(script, [String(redis.port), "load", root]),
      );
      const codes = await Promise.all(workers.map((w) => w.exited(150_000)));
      expect(codes, workers.map((w) => w.output()).join("\n")).toEqual([0, 0, 0, 0]);

      const counts = await queue.getJobCounts("completed", "failed", "waiting", "active", "delayed");
      expect(counts).toMatchObject({ completed: JOBS, failed: 0, waiting: 0, active: 0, delayed: 0 });
      const executions = readFileSync(join(root, "executions.log"), "utf8").trim().split("\n");
      const perKey = new Map<string, number>();
      for (const line of executions) {
        const key = line.split(" ")[0] as string;
        perKey.set(key, (perKey.get(key) ?? 0) + 1);
      }
      expect([...perKey.keys()].sort()).toEqual(keys);
      expect([...perKey.values()].every((n) => n === 1)).toBe(true);
      const results = readdirSync(join(root, "runs")).filter((n) => n.endsWith(".json"));
      expect(results).toHaveLength(JOBS);
      for (const key of keys) {
        const result = JSON.parse(readFileSync(join(root, "runs", `${key}.json`), "utf8"));
        expect(result.digest).toBe(createHash("sha256").update(key).digest("hex"));
      }
      // The work was shared: more than one process took jobs, and the completions add up to the jobs.
      const done = workers.map((w) => Number(/: (\d+) completed/.exec(w.output())?.[1] ?? 0));
      expect(done.reduce((a, b) => a + b, 0)).toBe(JOBS);
      expect(done.filter((n) => n > 0).length).toBeGreaterThan(1);
    } finally {
      await queue.close();
    }
  });
});
