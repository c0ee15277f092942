import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listCheckpoints, loadCheckpoint } from "./checkpoint";
import { assertFreshBuild } from "./test-support/fresh-build";

// The child imports the BUILT package (dist/), as a user would; CI runs `pnpm build` before `pnpm test`.
const here = dirname(fileURLToPath(import.meta.url));
const child = join(here, "test-support", "resume-child.mjs");
const adapterChild = join(here, "test-support", "resume-adapter-child.mjs");
const dist = join(here, "..", "..", "dist", "index.js");
const STEPS = 24; // 6 batches per epoch: 4 epochs, reshuffled each epoch
let dir: string;

interface Spawned {
  process: ChildProcess;
  lines: string[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/** Starts a child training into `<dir>/<name>-checkpoints`, writing its final weights to `<dir>/<name>.bin`. */
function start(name: string, delay = 0, script = child, extra: string[] = [], steps = STEPS): Spawned {
  const args = [
    script,
    "--dir",
    join(dir, `${name}-checkpoints`),
    "--out",
    join(dir, `${name}.bin`),
    "--steps",
    `${steps}`,
    ...extra,
  ];
  if (delay > 0) args.push("--delay", `${delay}`);
  const env = { ...process.env, KORA_BACKEND: "wasm" };
  const proc = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  let buffered = "";
  let stderr = "";
  proc.stdout?.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split("\n");
    buffered = parts.pop() ?? "";
    lines.push(...parts);
  });
  proc.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>(
    (resolve) => {
      proc.on("exit", (code, signal) => resolve({ code, signal, stderr }));
    },
  );
  return { process: proc, lines, exit };
}

async function waitForLine(spawned: Spawned, line: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!spawned.lines.includes(line)) {
    if (spawned.process.exitCode !== null || spawned.process.signalCode !== null) {
      throw new Error(`the child exited before printing "${line}": ${(await spawned.exit).stderr}`);
    }
    if (Date.now() > deadline) throw new Error(`no "${line}" from the child within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

beforeAll(async () => {
  assertFreshBuild(dist, here);
  dir = await mkdtemp(join(tmpdir(), "kora-resume-"));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("exact resume across a SIGKILL (child processes, built package, wasm backend)", () => {
  it("train N steps = train, SIGKILL after k, resume, finish N: bit-identical weights", async () => {
    const whole = start("whole");
    const interrupted = start("interrupted", 150);
    const wholeExit = await whole.exit;
    expect(wholeExit.code, wholeExit.stderr).toBe(0);
    expect(whole.lines).toContain("resumed none");
    expect(wholeExit.stderr).toContain("using the wasm backend (KORA_BACKEND)");

    await waitForLine(interrupted, "step 9", 30_000);
    interrupted.process.kill("SIGKILL");
    const killed = await interrupted.exit;
    expect(killed.signal).toBe("SIGKILL");
    expect(existsSync(join(dir, "interrupted.bin"))).toBe(false);
    const checkpointDir = join(dir, "interrupted-checkpoints");
    const latest = await loadCheckpoint(checkpointDir);
    const killedAt = latest?.position.step as number;
    // A step is reported before its checkpoint is written: "step 9" printed means step 8's checkpoint at least.
    expect(killedAt).toBeGreaterThanOrEqual(8);
    expect(killedAt).toBeLessThan(STEPS);
    expect((await listCheckpoints(checkpointDir)).length).toBeLessThanOrEqual(2);

    const resumed = start("interrupted");
    const resumedExit = await resumed.exit;
    expect(resumedExit.code, resumedExit.stderr).toBe(0);
    expect(resumed.lines).toContain(`resumed ${killedAt}`);
    expect(resumed.lines[0]).toBe(`step ${killedAt + 1}`);
    expect(resumed.lines).toContain(`step ${STEPS}`);

    const a = await readFile(join(dir, "whole.bin"));
    const b = await readFile(join(dir, "interrupted.bin"));
    expect(a.length).toBe(4 * (8 * 16 + 16 + 16 * 3 + 3));
    expect(b.equals(a)).toBe(true);
    expect((await readdir(checkpointDir)).filter((n) => n.includes(".tmp-"))).toEqual([]);
  }, 90_000);
});

describe("exact resume of adapters WITH dropout across SIGKILLs (child processes, built package, wasm)", () => {
  const steps = 15; // 6 batches of 8 per epoch, 2 per step: 5 epochs
  /** Kills `spawned` once it has printed "step <after>" and returns the step of the latest checkpoint. */
  async function killAfter(spawned: Spawned, name: string, after: number): Promise<number> {
    await waitForLine(spawned, `step ${after}`, 30_000);
    spawned.process.kill("SIGKILL");
    expect((await spawned.exit).signal).toBe("SIGKILL");
    const latest = await loadCheckpoint(join(dir, `${name}-checkpoints`));
    const step = latest?.position.step as number;
    // The step is reported before its checkpoint is written: the one before it is on disk at least.
    expect(step).toBeGreaterThanOrEqual(after - 1);
    expect(step).toBeLessThan(steps);
    return step;
  }

  for (const method of ["lora", "kora", "gated-bottleneck", "gated-lora"]) {
    it(`${method}, dropout 0.2: killed twice (after steps 4 and 9), resumed each time = uninterrupted, byte for byte`, async () => {
      const extra = ["--method", method];
      const whole = start(`${method}-whole`, 0, adapterChild, extra, steps);
      // Kill before awaiting the uninterrupted run: waiting for it first could let this one finish unkilled.
      const interrupted = start(`${method}-killed`, 200, adapterChild, extra, steps);
      const first = await killAfter(interrupted, `${method}-killed`, 4);
      const second = start(`${method}-killed`, 200, adapterChild, extra, steps);
      await waitForLine(second, `step ${first + 1}`, 30_000);
      const killedAgain = await killAfter(second, `${method}-killed`, 9);
      const wholeExit = await whole.exit;
      expect(wholeExit.code, wholeExit.stderr).toBe(0);
      expect(whole.lines).toContain("resumed none");
      const last = start(`${method}-killed`, 0, adapterChild, extra, steps);
      const lastExit = await last.exit;
      expect(lastExit.code, lastExit.stderr).toBe(0);
      expect(last.lines).toContain(`resumed ${killedAgain}`);
      expect(last.lines[0]).toBe(`step ${killedAgain + 1}`);

      const a = await readFile(join(dir, `${method}-whole.bin`));
      const b = await readFile(join(dir, `${method}-killed.bin`));
      expect(a.length).toBeGreaterThan(0);
      expect(b.equals(a)).toBe(true);
    }, 120_000);
  }
});
