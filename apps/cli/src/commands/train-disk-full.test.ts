import { execFileSync } from "node:child_process";
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../test-support/run-cli";

// A real full disk, not an injected one: a 1 MiB tmpfs nearly filled before the run. Mounting needs root (or
// CAP_SYS_ADMIN); where it is refused the test says so and is skipped — the injected-writer tests in @kora/tfjs
// and the CLI cover the same paths everywhere.
const dir = mkdtempSync(join(tmpdir(), "kora-cli-disk-full-"));
const disk = join(dir, "disk");
mkdirSync(disk);
let mounted = false;
try {
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", disk], { stdio: "ignore" });
  mounted = true;
} catch {
  console.warn(`kora: skipping the real disk-full test: cannot mount a tmpfs at ${disk} (needs root)`);
}
afterAll(() => {
  if (mounted) execFileSync("umount", [disk], { stdio: "ignore" });
  rmSync(dir, { recursive: true, force: true });
});

const args = [
  "train",
  "--backbone",
  "vit-micro",
  "--dataset",
  "synthetic-source",
  "--batch-size",
  "8",
  "--steps",
  "12",
  "--checkpoint-every",
  "1",
  "--method",
  "lora",
  "--rank",
  "4",
];

describe.runIf(mounted)("kora train on a disk that fills up (a real tmpfs)", () => {
  it("stops with the file named, keeps the last checkpoint, and resumes onto the uninterrupted run's adapter", () => {
    const straight = runCli([...args, "--out", join(dir, "straight")]);
    expect(straight.code, straight.stderr).toBe(0);

    // Leave 200 KiB: the run's files and two 60 KiB checkpoints fit, the third does not.
    const filler = join(disk, "filler");
    writeFileSync(filler, Buffer.alloc(1024 * 1024 - 200 * 1024));
    const out = join(disk, "run");
    const full = runCli([...args, "--out", out]);
    expect(full.code).toBe(1);
    const failed =
      /step (\d+): \S+checkpoint-0+(\d+)\.safetensors: cannot write the checkpoint, the disk is full \(ENOSPC\); the last complete checkpoint \S+ \(step (\d+)\) is intact/.exec(
        full.stderr,
      );
    expect(failed, full.stderr).not.toBeNull();
    const [, step, file, kept] = (failed as RegExpExecArray).map(Number);
    expect(file).toBe(step);
    expect(kept).toBe((step as number) - 1);
    expect(full.stderr).not.toMatch(/\n\s+at /); // no stack trace
    // run.json stands at the last checkpoint written (it stayed at 0), where --resume continues.
    expect(JSON.parse(readFileSync(join(out, "run.json"), "utf8"))).toMatchObject({
      status: "interrupted",
      step: kept,
    });
    // No temporary file is left behind to hold the space.
    expect(readdirSync(join(out, "checkpoints")).filter((name) => name.includes(".tmp"))).toEqual([]);

    rmSync(filler);
    const resumed = runCli(["train", "--resume", "--out", out, "--steps", "12"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(
      readFileSync(join(out, "adapter.safetensors")).equals(
        readFileSync(join(dir, "straight", "adapter.safetensors")),
      ),
    ).toBe(true);
  }, 120_000);

  it("a full disk while appending to metrics.jsonl: DISK_FULL naming it, interrupted at the last checkpoint, no torn line", () => {
    const steps = (n: number): string[] =>
      args.map((arg, i) => (args[i - 1] === "--steps" ? String(n) : arg));
    // The same run without the fault: 3 steps, then resumed to 12 (the schedule is planned for the steps a run is
    // started with, so this is not the straight 12-step run).
    const reference = join(dir, "log-reference");
    expect(runCli([...steps(3), "--out", reference]).code).toBe(0);
    expect(runCli(["train", "--resume", "--out", reference, "--steps", "12"]).code).toBe(0);

    // A run of 3 steps on the ordinary disk whose log then lives on the tmpfs (a link to it), on a tmpfs filled to
    // its last page: the log's page has room for about two more lines, a second page cannot be had. The checkpoints
    // stay on the ordinary disk, so it is an append to the log that meets the full disk. (The first line is padded
    // with blanks inside its JSON, still a valid line, to bring the log near the end of its page.)
    const out = join(dir, "log-run");
    const first = runCli([...steps(3), "--out", out]);
    expect(first.code, first.stderr).toBe(0);
    const text = readFileSync(join(out, "metrics.jsonl"), "utf8");
    const log = join(disk, "metrics.jsonl");
    writeFileSync(log, `{${" ".repeat(4096 - 400 - Buffer.byteLength(text) - 1)}${text.slice(1)}`);
    rmSync(join(out, "metrics.jsonl"));
    symlinkSync(log, join(out, "metrics.jsonl"));
    const filler = join(disk, "log-filler");
    try {
      for (;;) appendFileSync(filler, Buffer.alloc(4096));
    } catch (error) {
      expect((error as NodeJS.ErrnoException).code).toBe("ENOSPC");
    }
    const before = readFileSync(log, "utf8");

    const full = runCli(["train", "--resume", "--out", out, "--steps", "12"]);
    expect(full.code).toBe(1);
    const failed =
      /kora: error: step (\d+): \S+metrics\.jsonl: cannot append a line to the metrics log, the disk is full \(ENOSPC\); the last complete checkpoint \S+checkpoint-0+(\d+)\.safetensors \(step (\d+)\) is intact.*; run\.json marked interrupted; free some space, then continue with 'kora train --resume --out /.exec(
        full.stderr,
      );
    expect(failed, full.stderr).not.toBeNull();
    const [, step, file, kept] = (failed as RegExpExecArray).map(Number);
    expect(step).toBeGreaterThan(4); // a checkpoint of this attempt was written first
    expect(file).toBe((step as number) - 1);
    expect(kept).toBe((step as number) - 1);
    expect(full.stderr).not.toMatch(/\n\s+at |unexpected error/);
    // run.json stands at the last checkpoint written, where --resume continues.
    expect(JSON.parse(readFileSync(join(out, "run.json"), "utf8"))).toMatchObject({
      status: "interrupted",
      step: kept,
      failure: { code: "DISK_FULL" },
    });
    expect(JSON.parse(readFileSync(join(out, "checkpoints", "latest.json"), "utf8"))).toMatchObject({
      step: kept,
    });
    // The log holds whole lines only: the ones it had, then one per step up to the failed one.
    const after = readFileSync(log, "utf8");
    expect(after.startsWith(before)).toBe(true);
    const lines = after.split("\n");
    expect(lines.pop()).toBe("");
    expect(lines.map((line) => (JSON.parse(line) as { step: number }).step)).toEqual(
      Array.from({ length: (step as number) - 1 }, (_, i) => i + 1),
    );

    rmSync(filler);
    const resumed = runCli(["train", "--resume", "--out", out, "--steps", "12"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).not.toMatch(/warning/);
    expect(
      readFileSync(join(out, "adapter.safetensors")).equals(
        readFileSync(join(reference, "adapter.safetensors")),
      ),
    ).toBe(true);
  }, 180_000);
});
