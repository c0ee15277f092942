import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSafetensors } from "@kora/spec";
import { afterAll, describe, expect, it } from "vitest";
import { fixture, runKora } from "../test-support/run-cli";

const dir = mkdtempSync(join(tmpdir(), "kora-cli-artifacts-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const args = [
  "--backbone",
  "vit-micro",
  "--dataset",
  "synthetic-source",
  "--batch-size",
  "8",
  "--method",
  "lora",
];

function filesUnder(folder: string): string[] {
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

describe("kora train: a run folder holds no absolute path", () => {
  it("two identical runs in different folders write byte-identical models, none naming its folder", async () => {
    const outs = [join(dir, "first", "run"), join(dir, "second", "elsewhere", "run")];
    for (const out of outs) {
      mkdirSync(out, { recursive: true });
      const { code, stderr } = await runKora(["train", ...args, "--steps", "2", "--out", out, "--json"]);
      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    }
    for (const file of ["adapter.safetensors", "adapter.json", "model.json"])
      expect(readFileSync(join(outs[1]!, file)), file).toEqual(readFileSync(join(outs[0]!, file)));
    // a features file names its run relative to itself
    const features = join(dir, "first", "features.safetensors");
    const extracted = await runKora([
      "features",
      "--run",
      outs[0]!,
      "--limit",
      "4",
      "--out",
      features,
      "--json",
    ]);
    expect({ code: extracted.code, stderr: extracted.stderr }).toEqual({ code: 0, stderr: "" });
    expect(readSafetensors(new Uint8Array(readFileSync(features))).metadata?.["run"]).toBe("run");
    expect(readFileSync(features).toString("latin1").includes(dir)).toBe(false);
    for (const out of outs)
      for (const file of filesUnder(out)) {
        const text = readFileSync(file).toString("latin1");
        expect(text.includes(dir), `${file} names ${dir}`).toBe(false);
      }
  }, 60_000);

  it("a checkpoint's and a dataset root's paths are kept relative to the run: the folders move together", async () => {
    const project = join(dir, "project");
    mkdirSync(join(project, "model"), { recursive: true });
    cpSync(fixture("vit", "vit-micro-hf.safetensors"), join(project, "model", "model.safetensors"));
    cpSync(fixture("vit", "vit-micro-hf.config.json"), join(project, "model", "config.json"));
    const out = join(project, "runs", "hf");
    const trained = await runKora([
      "train",
      "--weights",
      join(project, "model"),
      "--dataset",
      "synthetic-source",
      "--batch-size",
      "4",
      "--method",
      "lora",
      "--steps",
      "1",
      "--out",
      out,
      "--json",
    ]);
    expect({ code: trained.code, stderr: trained.stderr }).toEqual({ code: 0, stderr: "" });
    for (const file of filesUnder(out))
      expect(readFileSync(file).toString("latin1").includes(dir), `${file} names ${dir}`).toBe(false);
    expect(JSON.parse(readFileSync(join(out, "run.json"), "utf8")).backbone).toEqual({
      weights: join("..", "..", "model", "model.safetensors"),
      config: join("..", "..", "model", "config.json"),
    });
    const moved = join(dir, "moved");
    renameSync(project, moved);
    const evaluated = await runKora(["eval", "--run", join(moved, "runs", "hf"), "--limit", "8", "--json"]);
    expect({ code: evaluated.code, stderr: evaluated.stderr }).toEqual({ code: 0, stderr: "" });
    expect(JSON.parse(evaluated.stdout)).toMatchObject({ examples: 8 });
  }, 60_000);
});
