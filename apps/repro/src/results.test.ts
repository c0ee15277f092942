import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KoraError } from "@kora/spec";
import { afterAll, describe, expect, it } from "vitest";
import { setAside } from "./damaged";
import { type RunResult, readAllResults, readResult, resultPath, writeResult } from "./results";

const root = mkdtempSync(join(tmpdir(), "kora-repro-results-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function result(key: string): RunResult {
  return {
    format: 1,
    key,
    name: "source lora seed 0",
    status: "ok",
    task: "source",
    method: { kind: "head-only" },
    seed: 0,
    shuffleLabels: false,
    sourceKey: null,
    usedBy: ["4.1/head-only"],
    preset: { name: "smoke", config: {} },
    git: { commit: null, dirty: null },
    backend: "wasm",
    node: "v22",
    startedAt: "2026-01-01T00:00:00.000Z",
    finishedAt: "2026-01-01T00:00:01.000Z",
    timings: { totalSeconds: 1, trainSeconds: 0.5, evalSeconds: 0.5 },
    metrics: { accuracy: 50, macroF1: null },
    curve: [
      { step: 1, loss: 2.3 },
      { step: 2, loss: 2.1 },
    ],
    extra: {},
    error: null,
  };
}

/** Every file under `<out>/damaged`, relative to it. */
const damaged = (out: string) =>
  existsSync(join(out, "damaged"))
    ? readdirSync(join(out, "damaged"), { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => join(entry.parentPath, entry.name).slice(join(out, "damaged").length + 1))
    : [];

describe("a run's result file", () => {
  it("round-trips", () => {
    const out = join(root, "round-trip");
    const lines: string[] = [];
    writeResult(out, result("a"));
    expect(readResult(out, "a", (line) => lines.push(line))).toEqual(result("a"));
    expect(readResult(out, "missing", (line) => lines.push(line))).toBeNull();
    expect(lines).toEqual([]);
  });

  const cases: [string, (path: string) => void, RegExp][] = [
    [
      "torn (truncated JSON)",
      (p) => writeFileSync(p, JSON.stringify(result("k")).slice(0, 90)),
      /it is not valid JSON/,
    ],
    ["empty (zero bytes)", (p) => writeFileSync(p, ""), /it is empty \(0 bytes\)/],
    ["a JSON list", (p) => writeFileSync(p, "[1, 2]"), /it is not a JSON object/],
    [
      "another run's",
      (p) => writeFileSync(p, JSON.stringify(result("other"))),
      /its key is "other", expected "k"/,
    ],
    [
      "missing its metrics",
      (p) => writeFileSync(p, JSON.stringify({ ...result("k"), metrics: undefined })),
      /its metrics are missing, expected an object/,
    ],
    [
      "a curve point without a step",
      (p) => writeFileSync(p, JSON.stringify({ ...result("k"), curve: [{ loss: 1 }] })),
      /its curve\[0\] is \{"loss":1\}, expected \{ step, loss \}/,
    ],
    [
      "failed without an error",
      (p) => writeFileSync(p, JSON.stringify({ ...result("k"), status: "failed" })),
      /it says failed but records no error/,
    ],
    ["a folder", (p) => mkdirSync(p), /it is not a regular file/],
  ];
  for (const [what, damage, reason] of cases) {
    it(`${what}: is no result, with a warning naming it and why, and is moved aside, not deleted`, () => {
      const out = join(root, what.replace(/\W+/g, "-"));
      writeResult(out, result("k"));
      const path = resultPath(out, "k");
      rmSync(path);
      damage(path);
      const bytes = existsSync(path) && !what.includes("folder") ? readFileSync(path) : null;
      const lines: string[] = [];
      expect(readResult(out, "k", (line) => lines.push(line))).toBeNull();
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`warning: ${path} is damaged (`);
      expect(lines[0]).toMatch(reason);
      expect(lines[0]).toMatch(/its run counts as not done and runs again/);
      expect(existsSync(path)).toBe(false);
      const kept = readdirSync(join(out, "damaged"));
      expect(kept).toHaveLength(1);
      const moved = join(out, "damaged", kept[0] as string, "runs", "k.json");
      expect(existsSync(moved)).toBe(true);
      if (bytes !== null) expect(readFileSync(moved)).toEqual(bytes);
      // The run's new result is written where the damaged one was, and read back.
      writeResult(out, result("k"));
      expect(readResult(out, "k", (line) => lines.push(line))).toEqual(result("k"));
      expect(lines).toHaveLength(1);
    });
  }

  it("is never silently dropped from the report's list: the damaged one is named, the others read", () => {
    const out = join(root, "all");
    writeResult(out, result("good"));
    writeResult(out, result("bad"));
    writeFileSync(resultPath(out, "bad"), '{"format": 1, "key": "bad", "stat');
    const lines: string[] = [];
    const all = readAllResults(out, (line) => lines.push(line));
    expect([...all.keys()]).toEqual(["good"]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/bad\.json is damaged \(it is not valid JSON.*the report leaves its run out/);
    expect(damaged(out)).toEqual([expect.stringMatching(/^[^/]+\/runs\/bad\.json$/)]);
  });
});

describe("setAside", () => {
  it("keeps both of two files of one name, and passes over one already gone", () => {
    const out = join(root, "aside");
    mkdirSync(join(out, "runs"), { recursive: true });
    const path = join(out, "runs", "x.json");
    writeFileSync(path, "1");
    const [first] = setAside(out, [path], "test");
    writeFileSync(path, "2");
    const [second] = setAside(out, [path], "test");
    expect(first).not.toBe(second);
    expect(readFileSync(first as string, "utf8")).toBe("1");
    expect(readFileSync(second as string, "utf8")).toBe("2");
    expect(setAside(out, [path], "test")).toEqual([null]);
  });

  it("says which file it cannot move, with a typed error", () => {
    const out = join(root, "blocked");
    mkdirSync(join(out, "runs"), { recursive: true });
    const path = join(out, "runs", "x.json");
    writeFileSync(path, "1");
    // A file where the damaged folder should be: the move cannot be made.
    writeFileSync(join(out, "damaged"), "");
    let caught: unknown = null;
    try {
      setAside(out, [path], "torn");
    } catch (error) {
      caught = error;
    }
    expect(KoraError.isInstance(caught) && caught.code).toBe("IO_ERROR");
    expect((caught as Error).message).toContain(`${path} is damaged (torn) and cannot be moved aside`);
    expect(readFileSync(path, "utf8")).toBe("1");
  });
});
