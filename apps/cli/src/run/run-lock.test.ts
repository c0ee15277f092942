import { spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { hostname, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lockRunFolder, RUN_LOCK_FILE, UNREADABLE_LOCK_STALE_SECONDS } from "./run-lock";

// The run folder's lock (issue 17): one writer, even when many processes start at the same moment; a lock is never
// seen empty or half written, and an unreadable lock is only taken over when it is clearly old.
const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "kora-run-lock-"));
const bundle = join(dir, "run-lock.mjs");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  // The children import this module as built code (esbuild, everything bundled: no tsx, no dist entry for it).
  await build({
    entryPoints: [join(here, "run-lock.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outfile: bundle,
    logLevel: "silent",
  });
});

let folders = 0;
function folder(): string {
  const path = join(dir, `run-${folders++}`);
  mkdirSync(path);
  return path;
}

function deadPid(): number {
  const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
    encoding: "utf8",
  });
  return Number(dead.stdout);
}

async function rejection(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error("expected lockRunFolder to fail");
}

describe("lockRunFolder: an unreadable lock", () => {
  it.each([
    ["empty", ""],
    ["half written", '{"pid":12'],
  ])("%s and fresh: RUN_LOCKED, left as it is", async (_name, text) => {
    const out = folder();
    const lock = join(out, RUN_LOCK_FILE);
    writeFileSync(lock, text);
    const error = await rejection(lockRunFolder(out, "train", () => undefined));
    expect(error.code).toBe("RUN_LOCKED");
    expect(error.message).toContain(lock);
    expect(readFileSync(lock, "utf8")).toBe(text);
    // Nothing else is left in the folder (the holder's temporary file is gone).
    expect(readdirSync(out)).toEqual([RUN_LOCK_FILE]);
  });

  it("older than the limit: taken over with a note, and removed on release", async () => {
    const out = folder();
    const lock = join(out, RUN_LOCK_FILE);
    writeFileSync(lock, "");
    const old = (Date.now() - (UNREADABLE_LOCK_STALE_SECONDS + 5) * 1000) / 1000;
    utimesSync(lock, old, old);
    const notes: string[] = [];
    const held = await lockRunFolder(out, "train", (note) => notes.push(note));
    expect(notes).toEqual([expect.stringMatching(/took over the unreadable \(stale\) lock .*run\.lock/)]);
    expect(JSON.parse(readFileSync(lock, "utf8"))).toMatchObject({ pid: process.pid, command: "train" });
    await held.release();
    expect(readdirSync(out)).toEqual([]);
  });
});

describe("lockRunFolder: many at once in one process", () => {
  it("exactly one of 12 concurrent calls takes a free folder; the lock is whole from the start", async () => {
    const out = folder();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 12 }, () => lockRunFolder(out, "train", () => undefined)),
    );
    const won = outcomes.filter((o) => o.status === "fulfilled");
    expect(won).toHaveLength(1);
    for (const o of outcomes) {
      if (o.status === "rejected") expect((o.reason as { code?: string }).code).toBe("RUN_LOCKED");
    }
    expect(JSON.parse(readFileSync(join(out, RUN_LOCK_FILE), "utf8"))).toMatchObject({ pid: process.pid });
    await (won[0] as PromiseFulfilledResult<{ release(): Promise<void> }>).value.release();
    expect(readdirSync(out)).toEqual([]);
  });
});

interface Outcome {
  won: boolean;
  code?: string;
  message?: string;
  notes?: string[];
}

/**
 * Starts `count` processes that each import the built module, waits until all are ready, lets them call
 * `lockRunFolder(out)` together, and returns their outcomes (the winner holds the lock until they all answered).
 */
async function contend(out: string, count: number): Promise<Outcome[]> {
  const child = join(here, "..", "test-support", "lock-child.mjs");
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, [child, bundle, out], { stdio: ["pipe", "pipe", "inherit"] }),
  );
  const exits = children.map(
    (c) => new Promise<number | null>((resolve) => c.on("exit", (code) => resolve(code))),
  );
  const lines = children.map((c) => createInterface({ input: c.stdout })[Symbol.asyncIterator]());
  const next = async (i: number): Promise<string> => {
    const line = await (lines[i] as AsyncIterator<string>).next();
    if (line.done === true) throw new Error(`child ${i} ended early`);
    return line.value;
  };
  expect(await Promise.all(children.map((_, i) => next(i)))).toEqual(children.map(() => "ready"));
  for (const c of children) c.stdin.write("go\n");
  const outcomes = (await Promise.all(children.map((_, i) => next(i)))).map(
    (line) => JSON.parse(line) as Outcome,
  );
  for (const c of children) c.stdin.end();
  expect(await Promise.all(exits)).toEqual(children.map(() => 0));
  return outcomes;
}

function expectOneWinner(outcomes: Outcome[]): Outcome {
  const winners = outcomes.filter((o) => o.won);
  expect(winners, JSON.stringify(outcomes)).toHaveLength(1);
  expect(outcomes.filter((o) => !o.won).map((o) => o.code)).toEqual(
    outcomes.slice(1).map(() => "RUN_LOCKED"),
  );
  return winners[0] as Outcome;
}

describe("lockRunFolder: many processes at once", () => {
  it("a free folder: exactly one of 12 processes wins, every other one gets RUN_LOCKED", async () => {
    for (let round = 0; round < 3; round++) {
      const out = folder();
      const winner = expectOneWinner(await contend(out, 12));
      expect(winner.notes).toEqual([]);
      // The winner removed its lock when it exited; no temporary file of any process is left.
      expect(readdirSync(out)).toEqual([]);
    }
  }, 60_000);

  it.each([
    [
      "of a process that is gone",
      () => JSON.stringify({ pid: deadPid(), hostname: hostname(), command: "train", started: "x" }),
    ],
    ["unreadable and old", () => ""],
  ])(
    "a stale lock %s: exactly one of 12 processes takes it over",
    async (_name, text) => {
      const out = folder();
      const lock = join(out, RUN_LOCK_FILE);
      writeFileSync(lock, text());
      const old = (Date.now() - (UNREADABLE_LOCK_STALE_SECONDS + 5) * 1000) / 1000;
      utimesSync(lock, old, old);
      const winner = expectOneWinner(await contend(out, 12));
      // The winner took the stale lock over, or found the folder free just after another process removed it.
      for (const note of winner.notes ?? [])
        expect(note).toMatch(/took over the (unreadable \(stale\) lock|stale lock)/);
      expect(existsSync(lock)).toBe(false);
      expect(readdirSync(out)).toEqual([]);
    },
    60_000,
  );
});
