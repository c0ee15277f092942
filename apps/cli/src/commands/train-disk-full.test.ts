import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
    expect((JSON.parse(readFileSync(join(out, "run.json"), "utf8")) as { status: string }).status).toBe(
      "interrupted",
    );
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
});
