import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runKora } from "../test-support/run-cli";

const dir = mkdtempSync(join(tmpdir(), "kora-cli-pretrain-size-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const micro = ["--backbone", "vit-micro", "--dataset", "synthetic-pretrain"];

describe("kora pretrain: the run's size is checked before anything is built", () => {
  it.each([
    [
      "batch 1e9",
      ["--batch-size", "1000000000", "--steps", "3"],
      /--batch-size \(batchSize\): 1000000000 is more than the limit/,
    ],
    [
      "steps 1e12",
      ["--batch-size", "4", "--steps", "1000000000000"],
      /--steps \(steps\): 1000000000000 is more than the limit/,
    ],
    [
      "batch above the items",
      ["--batch-size", "100", "--steps", "3", "--items", "0:40"],
      /--batch-size \(batchSize\): 100 is more than the 40 training examples/,
    ],
  ])(
    "%s: exit code 1, the flag named, no output folder left",
    async (name, flags, message) => {
      const out = join(dir, name.replace(/\W/g, "-"));
      const run = await runKora(["pretrain", ...micro, ...flags, "--out", out]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).not.toMatch(/unexpected error/);
      expect(existsSync(out)).toBe(false);
    },
    60_000,
  );
});
