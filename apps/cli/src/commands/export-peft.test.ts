import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture, runKora } from "../test-support/run-cli";

const dir = mkdtempSync(join(tmpdir(), "kora-cli-export-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const RUN = join(dir, "lora");

beforeAll(async () => {
  const args = [
    "--backbone",
    "vit-micro",
    "--dataset",
    "synthetic-source",
    "--batch-size",
    "4",
    "--method",
    "lora",
  ];
  const { code, stderr } = await runKora(["train", ...args, "--steps", "1", "--out", RUN, "--json"]);
  expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
}, 60_000);

function exportTo(name: string, ...more: string[]) {
  return runKora(["export", "--format", "peft", "--run", RUN, "--out", join(dir, name), ...more]);
}

describe("kora export --format peft: the adapter must fit the base model", () => {
  it("refuses a known Hugging Face model of another shape, naming both shapes (exit 1)", async () => {
    const { code, stderr } = await exportTo("base", "--base-model", "google/vit-base-patch16-224-in21k");
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /^kora: error: --base-model: .*google\/vit-base-patch16-224-in21k.*dim 768.*dim 48/,
    );
  });

  it("refuses a model it does not know unless --base-config gives its config.json", async () => {
    const unknown = await exportTo("unknown", "--base-model", "someone/vit-micro");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/--base-model: .*someone\/vit-micro.*--base-config/);

    const same = await exportTo(
      "same",
      "--base-model",
      "someone/vit-micro",
      "--base-config",
      fixture("vit", "vit-micro-hf.config.json"),
      "--json",
    );
    expect({ code: same.code, stderr: same.stderr }).toEqual({ code: 0, stderr: "" });
    const config = JSON.parse(readFileSync(join(dir, "same", "adapter_config.json"), "utf8"));
    expect(config.base_model_name_or_path).toBe("someone/vit-micro");

    const wide = JSON.parse(readFileSync(fixture("vit", "vit-micro-hf.config.json"), "utf8"));
    mkdirSync(join(dir, "wide-model"));
    writeFileSync(join(dir, "wide-model", "config.json"), JSON.stringify({ ...wide, hidden_size: 96 }));
    // a local model folder is checked against its own config.json
    const local = await exportTo("wide", "--base-model", join(dir, "wide-model"));
    expect(local.code).toBe(1);
    expect(local.stderr).toMatch(/dim 96.*dim 48/);
  });
});
