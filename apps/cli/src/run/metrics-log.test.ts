import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KoraError } from "@kora/spec";
import { afterAll, describe, expect, it } from "vitest";
import { recordFailure } from "./finish-run";
import { appendMetricsLine, trimMetricsLog } from "./metrics-log";
import type { RunFile } from "./run-file";

// Faults while a run writes its log (issue 17), with an injected writer: the real full disk is in
// train-disk-full.test.ts (it needs root to mount a tmpfs).
const dir = mkdtempSync(join(tmpdir(), "kora-metrics-log-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function failing(code: string, written: string): (path: string, text: string) => void {
  return (path, text) => {
    // As a write cut short by a full disk: part of the line lands, then the error.
    appendFileSync(path, text.slice(0, written.length));
    throw Object.assign(new Error(`${code}: write failed`), { code });
  };
}

function thrown(run: () => unknown): KoraError {
  try {
    run();
  } catch (error) {
    if (KoraError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected a KoraError");
}

describe("appendMetricsLine", () => {
  it.each([
    ["ENOSPC", "DISK_FULL", /the disk is full \(ENOSPC\)/],
    ["EDQUOT", "DISK_FULL", /the disk is full \(EDQUOT\)/],
    ["EIO", "IO_ERROR", /\(EIO\)/],
  ])("%s: %s naming the file, and the torn part of the line cut off again", (errno, code, message) => {
    const path = join(dir, `${errno}.jsonl`);
    writeFileSync(path, '{"step":1}\n');
    const error = thrown(() =>
      appendMetricsLine(path, '{"step":2,"loss":1.5}', failing(errno, '{"step":2,')),
    );
    expect(error.code).toBe(code);
    expect(error.message).toContain(path);
    expect(error.message).toMatch(message);
    expect(readFileSync(path, "utf8")).toBe('{"step":1}\n');
  });

  it("a log that did not exist yet is left empty, not holding half a line", () => {
    const path = join(dir, "new.jsonl");
    expect(thrown(() => appendMetricsLine(path, '{"step":1}', failing("ENOSPC", '{"st'))).code).toBe(
      "DISK_FULL",
    );
    expect(readFileSync(path, "utf8")).toBe("");
  });

  it("appends whole lines", () => {
    const path = join(dir, "ok.jsonl");
    appendMetricsLine(path, '{"step":1}');
    appendMetricsLine(path, '{"step":2}');
    expect(readFileSync(path, "utf8")).toBe('{"step":1}\n{"step":2}\n');
  });
});

describe("trimMetricsLog", () => {
  it("leaves a log that needs no trimming untouched (the same file)", () => {
    const path = join(dir, "untouched.jsonl");
    writeFileSync(path, '{"step":1}\n{"step":2}\n');
    const before = statSync(path).ino;
    expect(trimMetricsLog(path, 3)).toEqual({ kept: 2, unreadable: [], missing: [] });
    expect(statSync(path).ino).toBe(before);
  });

  it("replaces a log it trims whole", () => {
    const path = join(dir, "trimmed.jsonl");
    writeFileSync(path, '{"step":1}\n{"step":2}\n{"step":3,"lo');
    expect(trimMetricsLog(path, 2)).toEqual({ kept: 1, unreadable: [3], missing: [] });
    expect(readFileSync(path, "utf8")).toBe('{"step":1}\n');
  });

  it("a log that cannot be read is IO_ERROR naming it", () => {
    const path = join(dir, "a-folder.jsonl");
    mkdirSync(path);
    const error = thrown(() => trimMetricsLog(path, 1));
    expect(error.code).toBe("IO_ERROR");
    expect(error.message).toContain(path);
  });
});

/** A run.json as `kora train` writes it when it starts (step 0). */
function startedRun(): RunFile {
  return {
    format: "kora-run",
    version: 1,
    kora: "0.0.0",
    command: "train",
    task: "classification",
    backbone: { preset: "vit-micro", seed: 3 },
    head: { kind: "classification", classes: 10 },
    dataset: { name: "synthetic-source", split: "train", examples: 400 },
    spec: { method: "lora", rank: 4 } as RunFile["spec"],
    training: { batchSize: 8, lr: 0.002, weightDecay: 0.01, warmup: 0, seed: 3, steps: 20 },
    totalSteps: 0,
    status: "running",
    step: 0,
    loss: null,
    started: "2026-12-01T00:00:00.000Z",
    updated: "",
  };
}

describe("recordFailure", () => {
  it("a run stopped by a full disk: interrupted, at the step of its newest complete checkpoint, with the way on", async () => {
    const out = join(dir, "run");
    const checkpoints = join(out, "checkpoints");
    mkdirSync(checkpoints, { recursive: true });
    // Checkpoints 3 and 4 are complete; 5 has no manifest (its write did not finish).
    for (const name of [
      "checkpoint-000000003.safetensors",
      "checkpoint-000000003.manifest.json",
      "checkpoint-000000004.safetensors",
      "checkpoint-000000004.manifest.json",
      "checkpoint-000000005.safetensors",
    ]) {
      writeFileSync(join(checkpoints, name), "x");
    }
    const run = startedRun();
    const full = new KoraError({
      code: "DISK_FULL",
      message: `${join(out, "metrics.jsonl")}: cannot append a line to the metrics log, the disk is full (ENOSPC)`,
    });
    let error: unknown;
    try {
      await recordFailure(run, out, "train", async () => {
        throw full;
      });
    } catch (caught) {
      error = caught;
    }
    expect(KoraError.isInstance(error) && error.code).toBe("DISK_FULL");
    expect((error as Error).message).toMatch(
      /metrics\.jsonl: .*the disk is full \(ENOSPC\); run\.json marked interrupted; free some space, then continue with 'kora train --resume --out /,
    );
    const written = JSON.parse(readFileSync(join(out, "run.json"), "utf8")) as RunFile;
    expect(written).toMatchObject({ status: "interrupted", step: 4, failure: { code: "DISK_FULL" } });
  });

  it("a run with no complete checkpoint keeps its step", async () => {
    const out = join(dir, "run-without-checkpoints");
    mkdirSync(out);
    const run = { ...startedRun(), step: 0 };
    await expect(
      recordFailure(run, out, "train", async () => {
        throw new KoraError({ code: "IO_ERROR", message: "x" });
      }),
    ).rejects.toMatchObject({ code: "IO_ERROR" });
    expect(JSON.parse(readFileSync(join(out, "run.json"), "utf8"))).toMatchObject({
      status: "interrupted",
      step: 0,
    });
  });
});
