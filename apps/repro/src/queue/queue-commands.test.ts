import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../main";
import { freePort, redisTestsEnabled, startRedis, type TestRedis } from "./test-support/redis-server";

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

describe("queue commands refuse bad input without Redis", () => {
  it("names the flag and what was expected, with exit code 2 and no stack", async () => {
    const cases: [string[], RegExp][] = [
      [["status"], /--queue is required: the Redis URL/],
      [["status", "--queue", "localhost"], /--queue must be a Redis URL/],
      [
        ["worker", "--queue", "redis://h", "--concurrency", "0"],
        /--concurrency must be an integer from 1 to 64, got "0"/,
      ],
      [
        ["worker", "--queue", "redis://h", "--backend", "gpu"],
        /--backend must be one of wasm, tensorflow, cpu, got "gpu"/,
      ],
      [
        ["enqueue", "--queue", "redis://h", "--preset", "huge"],
        /--preset must be one of smoke, default, extended, paper, got "huge"/,
      ],
      [["enqueue", "--queue", "redis://h", "--attempts", "0"], /--attempts must be an integer from 1 to 100/],
      [["status", "--queue", "redis://h", "--queue-name", "a:b"], /--queue-name must be 1-100 letters/],
      [["enqueue", "--queue", "redis://h", "--sedes", "2"], /Unknown option '--sedes'/],
    ];
    for (const [args, pattern] of cases) {
      const result = await cli(args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr).toMatch(pattern);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });
});

const enabled = redisTestsEnabled();
const dir = mkdtempSync(join(tmpdir(), "kora-repro-queue-commands-"));
let redis: TestRedis;
beforeAll(async () => {
  if (enabled) redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe.runIf(enabled)("queue commands against Redis", () => {
  it("reports an unreachable Redis as QUEUE_UNREACHABLE with the address and the cause", async () => {
    // A port that was free a moment ago: nothing listens there.
    const closed = `redis://127.0.0.1:${await freePort()}/0`;
    const result = await cli(["status", "--queue", closed]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+\/0 \(--queue\): connect ECONNREFUSED/,
    );
  });

  it("enqueues idempotently, refuses a second plan on the same queue, and refuses a report before the plan is done", async () => {
    const base = ["--queue", redis.url, "--queue-name", "cmd"];
    expect((await cli(["status", ...base])).stderr).toMatch(/no plan was enqueued on queue "cmd"/);
    const enqueue = [
      "enqueue",
      ...base,
      "--preset",
      "smoke",
      "--only",
      "4.1",
      "--seeds",
      "1",
      "--out",
      join(dir, "out"),
    ];
    expect((await cli(enqueue)).stdout).toMatch(/^enqueued 8 of 8 runs on queue cmd \(0 already there\)/);
    expect((await cli(enqueue)).stdout).toMatch(/^enqueued 0 of 8 runs/);
    const other = await cli([...enqueue.slice(0, -4), "--seeds", "2", "--out", join(dir, "out")]);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(
      /queue "cmd" holds another plan \(runs \(8 → 16.*give this plan its own --queue-name/,
    );
    const status = await cli(["status", ...base]);
    expect(status.stdout).toMatch(/done 0 · running 0 · failed 0 · waiting 8 · workers 0 · ETA unknown/);
    const report = await cli(["report", ...base]);
    expect(report.code).toBe(1);
    expect(report.stderr).toMatch(/the plan is not complete: 0 done, 0 running, 8 waiting, 0 failed/);
  });
});
