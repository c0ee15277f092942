import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli, runKora } from "../test-support/run-cli";

const dir = mkdtempSync(join(tmpdir(), "kora-cli-banners-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A new process each: tfjs prints its banners with console.warn, which an in-process run does not capture.
describe.skipIf(process.env["KORA_BACKEND"] !== undefined)("no misleading banners", () => {
  it("--prefer cpu does not print tfjs's 'install our node backend' banner; --verbose keeps tfjs's warnings", () => {
    const args = ["backend", "--prefer", "cpu", "--seconds", "0.05", "--size", "16"];
    const quiet = runCli(args);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe("");
    expect(quiet.stdout).not.toMatch(/looks like you are running/);
    const verbose = runCli([...args, "--verbose"]);
    expect(verbose.code).toBe(0);
    expect(verbose.stderr).toMatch(/looks like you are running TensorFlow\.js in Node\.js/);
  });
});

describe("kora train's first line", () => {
  it("names a seed only when one was given, and then the one given", async () => {
    const args = ["train", "--backbone", "vit-micro", "--dataset", "synthetic-source", "--method", "lora"];
    const more = ["--batch-size", "4", "--steps", "1"];
    const unseeded = await runKora([...args, ...more, "--out", join(dir, "unseeded")]);
    expect(unseeded.code).toBe(0);
    expect(unseeded.stderr.split("\n")[0]).toMatch(/^kora train: lora on vit-micro, synthetic-source /);
    expect(unseeded.stderr).not.toMatch(/seed/);
    const seeded = await runKora([...args, ...more, "--seed", "5", "--out", join(dir, "seeded")]);
    expect(seeded.code).toBe(0);
    expect(seeded.stderr.split("\n")[0]).toMatch(
      /^kora train: lora on vit-micro \(seed 5\), synthetic-source /,
    );
  }, 60_000);
});
