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
const dist = join(here, "..", "..", "dist", "index.js");
const STEPS = 24; // 6 batches per epoch: 4 epochs, reshuffled each epoch
let dir: string;

interface Spawned {
  process: ChildProcess;
  lines: string[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

function start(name: string, delay = 0): Spawned {
  const args = [
    child,
    "--dir",
    join(dir, `${name}-checkpoints`),
    "--out",
    join(dir, `${name}.bin`),
    "--steps",
    `${STEPS}`,
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
    expect(killedAt).toBeGreaterThanOrEqual(9);
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
