import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../main";
import { runRepro } from "../runner";
import { builtCli, type Spawned, spawnNode } from "./test-support/cli-process";
import { redisTestsEnabled, startRedis, type TestRedis } from "./test-support/redis-server";

const enabled = redisTestsEnabled();
const dir = mkdtempSync(join(tmpdir(), "kora-repro-queue-plan-"));
let redis: TestRedis;

beforeAll(async () => {
  if (enabled) redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the command line in this process; returns its exit code and output. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

/** report.md without the lines that describe this invocation (its time, and whether the backbone was cached). */
const comparable = (path: string) =>
  readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => !/^- (Wall time|Run timings|Generated) /.test(line))
    .join("\n")
    .replace(" (from cache)", "");

/** What a run's result says about the run itself (its timings and dates differ from process to process). */
const essence = (path: string) => {
  const { metrics, curve, extra, status, error, usedBy, method } = JSON.parse(readFileSync(path, "utf8"));
  return { metrics, curve, extra, status, error, usedBy, method };
};

/** Waits (bounded: `looks` × 100 ms) until `ready()` holds. */
async function until(ready: () => boolean, looks: number, what: string): Promise<void> {
  for (let look = 0; look < looks; look++) {
    if (ready()) return;
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.runIf(enabled)("a plan through the queue on 3 worker processes", () => {
  it("gives the single-process report and results, through a Redis restart mid-plan", {
    timeout: 300_000,
  }, async () => {
    const cliPath = builtCli();
    const local = await runRepro({
      preset: "smoke",
      out: join(dir, "local"),
      write: () => {},
      interactive: false,
    });
    expect(local.runs.failed).toBe(0);

    const queued = join(dir, "queued");
    const enqueue = [
      "enqueue",
      "--queue",
      redis.url,
      "--queue-name",
      "plan",
      "--preset",
      "smoke",
      "--out",
      queued,
    ];
    const first = await cli(enqueue);
    expect(first.stdout, first.stderr).toMatch(
      /^enqueued (\d+) of \1 runs on queue plan \(0 already there\)/,
    );
    const total = local.runs.total;
    expect(first.stdout).toContain(`enqueued ${total} of ${total} runs`);
    // Enqueueing again adds nothing: job id = run key.
    expect((await cli(enqueue)).stdout).toContain(
      `enqueued 0 of ${total} runs on queue plan (${total} already there)`,
    );

    const workers: Spawned[] = [0, 1, 2].map(() =>
      spawnNode(cliPath, [
        "worker",
        "--queue",
        redis.url,
        "--queue-name",
        "plan",
        "--until-empty",
        "--lock-seconds",
        "5",
      ]),
    );
    const results = () => readdirSync(join(queued, "runs")).filter((n) => n.endsWith(".json")).length;
    await until(() => results() >= 10, 1200, "10 results before the Redis restart");
    // Redis goes down and comes back with its append-only file; the workers reconnect and go on.
    await redis.restart();
    const codes = await Promise.all(workers.map((w) => w.exited(240_000)));
    expect(codes, workers.map((w) => w.output()).join("\n")).toEqual([0, 0, 0]);
    // Every worker took part, and no job was lost: the restarted Redis still knows every one.
    for (const worker of workers)
      expect(worker.output()).toMatch(/kora-repro worker: [1-9]\d* job\(s\) done/);
    expect((await cli(enqueue)).stdout).toContain(`enqueued 0 of ${total} runs`);
    const status = await cli(["status", "--queue", redis.url, "--queue-name", "plan"]);
    expect(status.stdout).toMatch(
      new RegExp(`done ${total} · running 0 · failed 0 · waiting 0 · workers \\d+ · complete`),
    );

    const report = await cli(["report", "--queue", redis.url, "--queue-name", "plan"]);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout.trim().split("\n")).toEqual([
      join(queued, "report.md"),
      join(queued, "report.html"),
    ]);
    expect(comparable(join(queued, "report.md"))).toBe(comparable(local.reportMarkdown));
    const { wallSeconds: _a, ...localJson } = JSON.parse(
      readFileSync(join(dir, "local", "report.json"), "utf8"),
    );
    const { wallSeconds: _b, ...queuedJson } = JSON.parse(readFileSync(join(queued, "report.json"), "utf8"));
    expect(queuedJson).toEqual(localJson);
    const names = readdirSync(join(dir, "local", "runs")).filter((n) => n.endsWith(".json"));
    expect(
      readdirSync(join(queued, "runs"))
        .filter((n) => n.endsWith(".json"))
        .sort(),
    ).toEqual(names.sort());
    for (const name of names) {
      expect(essence(join(queued, "runs", name)), name).toEqual(essence(join(dir, "local", "runs", name)));
    }
  });
});
