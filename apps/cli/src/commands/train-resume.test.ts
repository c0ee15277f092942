import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runKora } from "../test-support/run-cli";

const dir = mkdtempSync(join(tmpdir(), "kora-cli-resume-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const started = [
  "--backbone",
  "vit-micro",
  "--dataset",
  "synthetic-source",
  "--batch-size",
  "8",
  "--lr",
  "0.002",
  "--seed",
  "3",
  "--method",
  "lora",
  "--rank",
  "4",
];

describe("kora train --resume: the flags the run was started with", () => {
  it("accepts flags equal to run.json's and names each one that differs, with the run's value", async () => {
    const out = join(dir, "run");
    const first = await runKora(["train", ...started, "--steps", "2", "--out", out, "--json"]);
    expect({ code: first.code, stderr: first.stderr }).toEqual({ code: 0, stderr: "" });

    // The same command line, only --steps raised: continues the run.
    const same = await runKora(["train", ...started, "--steps", "3", "--out", out, "--resume", "--json"]);
    expect({ code: same.code, stderr: same.stderr }).toEqual({ code: 0, stderr: "" });
    expect(JSON.parse(same.stdout)).toMatchObject({ resumedFrom: 2, step: 3 });

    // Two settings and the adapter changed: every difference is named with the run's value, and nothing else.
    const changed = started.map((arg) => (arg === "0.002" ? "0.1" : arg === "3" ? "4" : arg));
    const differ = await runKora([
      "train",
      ...changed,
      "--rank",
      "8",
      "--steps",
      "4",
      "--out",
      out,
      "--resume",
    ]);
    expect(differ.code).toBe(2);
    const listed = differ.stderr.split("these differ from the run: ")[1] ?? "";
    expect(listed).toContain("--lr 0.1 (the run has 0.002)");
    expect(listed).toContain("--seed 4 (the run has 3)");
    expect(listed).toMatch(/--method, --rank: .*lora.*rank 4/);
    expect(listed).not.toMatch(/--backbone|--dataset|--batch-size|--steps/);
  }, 60_000);
});
