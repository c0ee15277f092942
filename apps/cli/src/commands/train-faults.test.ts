import { spawn, spawnSync } from "node:child_process";
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CLI, runKora } from "../test-support/run-cli";

// Faults a run folder must survive (issue 17): foreign checkpoints, damaged checkpoints, torn log lines, a second
// writer, files kora did not write, and bad output paths. Runs are tiny (vit-micro, 2–4 steps of 4 images).
const dir = mkdtempSync(join(tmpdir(), "kora-cli-faults-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tiny = [
  "--backbone",
  "vit-micro",
  "--dataset",
  "synthetic-source",
  "--batch-size",
  "4",
  "--method",
  "lora",
];

function runJson(out: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(out, "run.json"), "utf8")) as Record<string, unknown>;
}

async function trained(name: string, extra: string[] = []): Promise<string> {
  const out = join(dir, name);
  const result = await runKora([
    "train",
    ...tiny,
    "--steps",
    "3",
    "--checkpoint-every",
    "1",
    ...extra,
    "--out",
    out,
  ]);
  expect({ code: result.code, stderr: result.stderr }).toMatchObject({ code: 0 });
  return out;
}

describe("kora train: checkpoints the engine verifies", () => {
  it("a checkpoint of another configuration (run.json edited) is refused: CHECKPOINT_MISMATCH, suggests a new --out", async () => {
    const out = await trained("foreign");
    const run = runJson(out);
    // The warm-up is not one of the engine's own settings: only the CLI's fingerprint can tell the runs apart.
    (run["training"] as Record<string, unknown>)["warmup"] = 5;
    writeFileSync(join(out, "run.json"), JSON.stringify(run));
    const resumed = await runKora(["train", "--resume", "--out", out, "--steps", "4"]);
    expect(resumed.code).toBe(1);
    expect(resumed.stderr).toMatch(/kora: error: .*another --out/);
    expect(resumed.stderr).toMatch(/fingerprint|another configuration|differs/);
    expect(runJson(out)["status"]).toBe("interrupted");
  }, 60_000);

  it("a damaged newest checkpoint: the run resumes from the one before, says so on stderr and in run.json", async () => {
    const out = await trained("damaged");
    const newest = join(out, "checkpoints", "checkpoint-000000003.safetensors");
    const bytes = readFileSync(newest);
    bytes[bytes.length - 5] = bytes[bytes.length - 5]! ^ 0xff;
    writeFileSync(newest, bytes);
    const resumed = await runKora(["train", "--resume", "--out", out, "--steps", "4", "--json"]);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ resumedFrom: 2, step: 4 });
    expect(resumed.stderr).toMatch(/kora: warning: .*checkpoint-000000003/);
    const warnings = runJson(out)["warnings"] as { kind: string; path: string }[];
    expect(warnings.map((w) => w.kind)).toEqual(["checkpoint-skipped"]);
    // The log was cut back to the checkpoint actually resumed from, then continued.
    const steps = readFileSync(join(out, "metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => (JSON.parse(line) as { step: number }).step);
    expect(steps).toEqual([1, 2, 3, 4]);
  }, 60_000);

  it("a checkpoint that cannot be written (IO_ERROR) marks the run interrupted, not running", async () => {
    const out = await trained("io-error");
    // A folder where latest.json goes: the checkpoint's last rename fails (EISDIR), as a write to a broken disk does.
    rmSync(join(out, "checkpoints", "latest.json"));
    mkdirSync(join(out, "checkpoints", "latest.json", "x"), { recursive: true });
    const resumed = await runKora(["train", "--resume", "--out", out, "--steps", "4"]);
    expect(resumed.code).toBe(1);
    expect(resumed.stderr).toMatch(
      /kora: error: .*latest\.json.*run\.json marked interrupted.*--resume --out/,
    );
    expect(resumed.stderr).not.toMatch(/unexpected error/);
    expect(runJson(out)).toMatchObject({ status: "interrupted", failure: { code: "IO_ERROR" } });
  }, 60_000);
});

describe("kora train: the metrics log", () => {
  it("a torn last line (a write cut short by a full disk) is skipped with a warning, not a SyntaxError", async () => {
    const out = await trained("torn");
    appendFileSync(join(out, "metrics.jsonl"), '{"step":4,"epoch":0,"lo');
    const resumed = await runKora(["train", "--resume", "--out", out, "--steps", "5"]);
    expect(resumed.stderr).toMatch(/kora: warning: .*metrics\.jsonl.*(torn|unreadable)/);
    expect(resumed.code).toBe(0);
    const steps = readFileSync(join(out, "metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => (JSON.parse(line) as { step: number }).step);
    expect(steps).toEqual([1, 2, 3, 4, 5]);
  }, 60_000);
});

describe("kora train: one writer per run folder, and only kora's own files", () => {
  it("a folder locked by a live process is refused at once, naming the holder", async () => {
    const out = join(dir, "locked");
    mkdirSync(out);
    writeFileSync(
      join(out, "run.lock"),
      JSON.stringify({
        pid: process.pid,
        hostname: hostname(),
        command: "train",
        started: "2026-01-01T00:00:00Z",
      }),
    );
    const second = await runKora(["train", ...tiny, "--steps", "2", "--out", out]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`kora: error: .*in use .*pid ${process.pid}`));
    expect(existsSync(join(out, "run.json"))).toBe(false);
  });

  it("a stale lock of a dead process is taken over, with a note; the lock is gone when the run ends", async () => {
    const out = join(dir, "stale");
    mkdirSync(out);
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
      encoding: "utf8",
    });
    writeFileSync(
      join(out, "run.lock"),
      JSON.stringify({ pid: Number(dead.stdout), hostname: hostname(), command: "train", started: "x" }),
    );
    const run = await runKora(["train", ...tiny, "--steps", "2", "--out", out]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(new RegExp(`stale lock .*pid ${dead.stdout}`));
    expect(existsSync(join(out, "run.lock"))).toBe(false);
  }, 60_000);

  it("a folder holding adapter files but no run.json is not overwritten", async () => {
    const out = join(dir, "foreign-files");
    mkdirSync(out);
    writeFileSync(join(out, "adapter.json"), "{}");
    const run = await runKora(["train", ...tiny, "--steps", "2", "--out", out]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/kora: error: .*adapter\.json.*no run\.json/);
    expect(readFileSync(join(out, "adapter.json"), "utf8")).toBe("{}");
  });
});

describe("kora train: output folders that cannot be used fail at once with the path", () => {
  it.each([
    ["an empty --out", () => "", /--out: .*empty/],
    ["--out naming a file", () => join(dir, "a-file"), /a-file.* not a folder/],
    ["--out under /proc", () => "/proc/self/kora-run", /\/proc\/self\/kora-run/],
    // An existing folder nothing can be written to (as a read-only file system is): the lock cannot be made.
    ["--out a folder that cannot be written", () => "/proc/self", /\/proc\/self\/run\.lock .*not writable/],
  ])("%s", async (_name, path, message) => {
    writeFileSync(join(dir, "a-file"), "x");
    const run = await runKora(["train", ...tiny, "--steps", "2", "--out", path()]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/unexpected error/);
  });

  it("a run.json with fields missing is a typed error naming the file", async () => {
    const out = join(dir, "half-run");
    mkdirSync(out);
    writeFileSync(
      join(out, "run.json"),
      JSON.stringify({ format: "kora-run", version: 1, command: "train" }),
    );
    const run = await runKora(["train", "--resume", "--out", out, "--steps", "2"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/half-run\/run\.json: .*(missing|expected)/);
    expect(run.stderr).not.toMatch(/unexpected error/);
    expect(readdirSync(out)).toEqual(["run.json"]);
  });
});

describe("kora merge: no silent replacement", () => {
  it("an existing config.json is kept unless --force", async () => {
    const run = await trained("to-merge");
    const target = join(dir, "merged");
    mkdirSync(target);
    writeFileSync(join(target, "config.json"), "{}");
    const refused = await runKora(["merge", "--run", run, "--out", target]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/kora: error: --out: .*config\.json already exists.*--force/);
    expect(readFileSync(join(target, "config.json"), "utf8")).toBe("{}");
    expect(existsSync(join(target, "model.safetensors"))).toBe(false);
    const forced = await runKora(["merge", "--run", run, "--out", target, "--force"]);
    expect(forced.code).toBe(0);
    expect(JSON.parse(readFileSync(join(target, "config.json"), "utf8"))).toHaveProperty("hidden_size");
  }, 60_000);
});

describe("a closed or full stdout", () => {
  it("a reader that closes the pipe early: exit 141 (SIGPIPE's), nothing on stderr", async () => {
    const child = spawn(process.execPath, [CLI, "train", "--help"], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += String(chunk);
    });
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    expect({ code, stderr }).toEqual({ code: 141, stderr: "" });
  });

  it("kora train whose stdout reader is gone before the end: the run completes, exit 141, quietly, no lock left", async () => {
    // Nothing is written to stdout before the result, so the run is not cut short: it completes, records that in
    // run.json and releases its lock, and only the result meets the closed pipe (exit 141, as for SIGPIPE).
    const out = join(dir, "closed-stdout");
    const child = spawn(process.execPath, [CLI, "train", ...tiny, "--steps", "2", "--out", out], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += String(chunk);
    });
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    expect({ code, stderr }).toMatchObject({ code: 141 });
    expect(stderr).not.toMatch(/error|\n\s+at /);
    expect(runJson(out)).toMatchObject({ status: "completed", step: 2 });
    expect(existsSync(join(out, "run.lock"))).toBe(false);
    // The run continues as any completed run does.
    const more = await runKora(["train", "--resume", "--out", out, "--steps", "3"]);
    expect(more.code, more.stderr).toBe(0);
    expect(runJson(out)).toMatchObject({ status: "completed", step: 3 });
  }, 60_000);

  it.skipIf(!existsSync("/dev/full"))("stdout on a full device: one line, exit 1, no stack", () => {
    const result = spawnSync("bash", ["-c", `"${process.execPath}" "${CLI}" train --help > /dev/full`], {
      encoding: "utf8",
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe("kora: error: cannot write to stdout: no space left on the device (ENOSPC)\n");
  });
});

describe("experiment files: hostile keys and sizes", () => {
  const base = { backbone: "vit-micro", dataset: "synthetic-source", method: "lora", steps: 2, batchSize: 4 };
  function experiment(name: string, text: string): string {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  }

  it.each([
    [
      "__proto__ at the top (JSON)",
      "proto.json",
      '{"__proto__": {"steps": 3}, "backbone": "vit-micro"}',
      "__proto__",
    ],
    ["constructor at the top (YAML)", "ctor.yaml", "constructor: 1\nbackbone: vit-micro\n", "constructor"],
    [
      "prototype deep in the adapter",
      "deep.json",
      '{"adapter": {"method": "lora", "x": {"prototype": 1}}}',
      "adapter.x.prototype",
    ],
    ["toString is an unknown key", "tostring.yaml", "toString: 1\n", "toString"],
  ])("%s: INVALID_EXPERIMENT naming the key", async (_name, file, text, key) => {
    const run = await runKora([
      "train",
      "--experiment",
      experiment(file, text),
      "--out",
      join(dir, `x-${file}`),
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(key);
    expect(run.stderr).not.toMatch(/is not a function|unexpected error/);
  });

  // Within the 64 KiB an experiment file may have (a larger one is refused by its size: experiment.fuzz.test.ts).
  it("a value nested 30 000 deep, or 60 000 characters long, is a typed error with a short message", async () => {
    const deep = `{"rank": ${"[".repeat(30_000)}1${"]".repeat(30_000)}}`;
    for (const [file, text, message] of [
      ["deep-rank.json", deep, /rank(\.0)*: nested deeper than 64 levels/],
      [
        "deep-layers.yaml",
        `layers: ${"[".repeat(2000)}1${"]".repeat(2000)}\n`,
        /YAML \(nested deeper than the parser can follow/,
      ],
      ["long.json", `{"rank": "${"x".repeat(60_000)}"}`, /rank: .*got "x{10,}…/],
    ] as const) {
      const run = await runKora([
        "train",
        "--experiment",
        experiment(file, text),
        "--out",
        join(dir, `x-${file}`),
      ]);
      expect(run.code, run.stderr.slice(0, 300)).toBe(1);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).not.toMatch(/Maximum call stack|unexpected error/);
      expect(run.stderr.length).toBeLessThan(20_000);
    }
  });

  it.each([
    ["batchSize 100000", { batchSize: 100000 }, /--batch-size \(batchSize\): 100000 is more than the limit/],
    ["batchSize 1e9", { batchSize: 1e9 }, /--batch-size \(batchSize\): 1000000000 is more than/],
    [
      "batchSize above the examples",
      { batchSize: 4096, dataset: "synthetic-depth" },
      /more than the \d+ training examples/,
    ],
    ["steps 1e12", { steps: 1e12 }, /--steps \(steps\): 1000000000000 is more than the limit/],
  ])("%s: refused before anything is built", async (name, extra, message) => {
    const file = experiment(`${name.replace(/\W/g, "-")}.json`, JSON.stringify({ ...base, ...extra }));
    const out = join(dir, `size-${name.replace(/\W/g, "-")}`);
    const run = await runKora(["train", "--experiment", file, "--out", out]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });
});

describe("kora train: the metrics log after a crash between checkpoint and log line", () => {
  it("a missing line for the resumed step is reported, and the log continues", async () => {
    const out = await trained("lost-line");
    const log = join(out, "metrics.jsonl");
    writeFileSync(log, readFileSync(log, "utf8").split("\n").slice(0, 2).join("\n").concat("\n"));
    const resumed = await runKora(["train", "--resume", "--out", out, "--steps", "4"]);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/kora: warning: .*metrics\.jsonl has no line for step 3/);
    const steps = readFileSync(log, "utf8")
      .trim()
      .split("\n")
      .map((line) => (JSON.parse(line) as { step: number }).step);
    expect(steps).toEqual([1, 2, 4]);
  }, 60_000);
});
