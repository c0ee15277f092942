// Output paths of the commands that write a file or folder named by a flag (issue 17): `kora features --out`,
// `kora export --out`, `kora cka --svg/--png`. A path that cannot be created is a typed error naming it, at once
// (Node's recursive mkdir spun forever on /proc/self/...); a folder where a file belongs, or a file where a folder
// belongs, is INVALID_PATH; existing files are never replaced without --force (OUTPUT_EXISTS, bytes untouched).
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
import { readSafetensors } from "@kora/spec";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture, runCli, runKora } from "../test-support/run-cli";

const dir = mkdtempSync(join(tmpdir(), "kora-cli-output-paths-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const RUN = join(dir, "lora");
const BASIC = fixture("cka", "basic.safetensors");
const SOMEONES = new TextEncoder().encode("someone else's file\n");

beforeAll(async () => {
  const { code, stderr } = await runKora([
    "train",
    "--backbone",
    "vit-micro",
    "--dataset",
    "synthetic-source",
    "--batch-size",
    "4",
    "--method",
    "lora",
    "--steps",
    "1",
    "--out",
    RUN,
    "--json",
  ]);
  expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
}, 60_000);

const features = (out: string, ...more: string[]) =>
  runKora(["features", "--run", RUN, "--limit", "8", "--out", out, ...more]);
const exportTo = (out: string, ...more: string[]) =>
  runKora(["export", "--format", "peft", "--run", RUN, "--out", out, ...more]);

/** Exit 1 with one line on stderr (a typed error: an untyped one adds a second line) matching `pattern`. */
function expectFailure(result: { code: number | null; stderr: string }, pattern: RegExp): void {
  expect(result.code, result.stderr).toBe(1);
  expect(result.stderr.trim().split("\n")).toHaveLength(1);
  expect(result.stderr).toMatch(pattern);
}

describe.runIf(process.platform === "linux")("an output path under /proc/self cannot be created", () => {
  // The binary, with runCli's 30-second kill: a spinning mkdir fails the test instead of hanging it.
  it("kora features --out /proc/self/kora-x/f.safetensors is IO_ERROR naming the path (no hang)", () => {
    const result = runCli([
      "features",
      "--run",
      RUN,
      "--limit",
      "8",
      "--out",
      "/proc/self/kora-x/f.safetensors",
    ]);
    expectFailure(result, /^kora: error: --out: cannot create \/proc\/self\/kora-x\b/);
  }, 120_000);

  it("kora export --out /proc/self/kora-x is IO_ERROR naming the path (no hang)", () => {
    const result = runCli(["export", "--format", "peft", "--run", RUN, "--out", "/proc/self/kora-x"]);
    expectFailure(result, /^kora: error: --out: cannot create \/proc\/self\/kora-x\b/);
  }, 120_000);

  it("kora cka --svg /proc/self/kora-x/cka.svg is IO_ERROR naming the path (no hang)", () => {
    const result = runCli(["cka", "--x", BASIC, "--y", BASIC, "--svg", "/proc/self/kora-x/cka.svg"]);
    expectFailure(result, /^kora: error: --svg: cannot create \/proc\/self\/kora-x\b/);
  }, 120_000);
});

describe("a file where a folder belongs, or a folder where a file belongs, is INVALID_PATH", () => {
  it("kora export --out naming an existing file", async () => {
    const file = join(dir, "a-file");
    writeFileSync(file, SOMEONES);
    const result = await exportTo(file);
    expectFailure(result, /^kora: error: --out: .*a-file exists and is not a folder/);
    expect(readFileSync(file)).toEqual(Buffer.from(SOMEONES));
  });

  it("kora features --out under a file, or naming a folder", async () => {
    const file = join(dir, "parent-file");
    writeFileSync(file, SOMEONES);
    expectFailure(
      await features(join(file, "f.safetensors")),
      /^kora: error: --out: .*parent-file exists and is not a folder/,
    );
    const folder = join(dir, "a-folder");
    mkdirSync(folder);
    expectFailure(
      await features(folder),
      /^kora: error: --out: .*a-folder is a folder; give the name of the file/,
    );
    expect(readdirSync(folder)).toEqual([]);
    expectFailure(await features(""), /^kora: error: --out: the path is empty/);
  });

  it("kora cka --png naming a folder", async () => {
    const folder = join(dir, "png-folder");
    mkdirSync(folder);
    expectFailure(
      await runKora(["cka", "--x", BASIC, "--y", BASIC, "--png", folder]),
      /^kora: error: --png: .*png-folder is a folder/,
    );
  });
});

describe("existing output files are not replaced without --force", () => {
  it("kora features: OUTPUT_EXISTS naming the file, bytes untouched; --force replaces it", async () => {
    const out = join(dir, "feats.safetensors");
    writeFileSync(out, SOMEONES);
    expectFailure(
      await features(out),
      /^kora: error: --out: .*feats\.safetensors already exists; choose another --out, or add --force to replace it/,
    );
    expect(readFileSync(out)).toEqual(Buffer.from(SOMEONES));

    const forced = await features(out, "--force", "--json");
    expect({ code: forced.code, stderr: forced.stderr }).toEqual({ code: 0, stderr: "" });
    expect(Object.keys(readSafetensors(new Uint8Array(readFileSync(out))).tensors)).toEqual([
      "block.0",
      "block.1",
      "block.2",
    ]);
    // no temporary file is left beside it
    expect(readdirSync(dir).filter((name) => name.includes(".tmp"))).toEqual([]);
  });

  it("kora export: OUTPUT_EXISTS naming both peft files, bytes untouched; --force replaces them", async () => {
    const out = join(dir, "peft");
    mkdirSync(out);
    writeFileSync(join(out, "adapter_config.json"), SOMEONES);
    writeFileSync(join(out, "adapter_model.safetensors"), SOMEONES);
    writeFileSync(join(out, "README.md"), SOMEONES);
    expectFailure(
      await exportTo(out),
      /^kora: error: --out: .*adapter_config\.json and .*adapter_model\.safetensors already exist; choose another --out, or add --force to replace them/,
    );
    for (const name of ["adapter_config.json", "adapter_model.safetensors"])
      expect(readFileSync(join(out, name))).toEqual(Buffer.from(SOMEONES));

    const forced = await exportTo(out, "--force", "--json");
    expect({ code: forced.code, stderr: forced.stderr }).toEqual({ code: 0, stderr: "" });
    expect(JSON.parse(readFileSync(join(out, "adapter_config.json"), "utf8"))).toMatchObject({
      peft_type: "LORA",
    });
    expect(
      readSafetensors(new Uint8Array(readFileSync(join(out, "adapter_model.safetensors")))).tensors,
    ).not.toEqual({});
    // other files are left alone, and the staging folder is gone
    expect(readFileSync(join(out, "README.md"))).toEqual(Buffer.from(SOMEONES));
    expect(readdirSync(out).sort()).toEqual([
      "README.md",
      "adapter_config.json",
      "adapter_model.safetensors",
    ]);
  });

  it("kora export of a method peft cannot hold leaves no folder and no file behind", async () => {
    const kora = join(dir, "kora-run");
    const trained = await runKora([
      "train",
      "--backbone",
      "vit-micro",
      "--dataset",
      "synthetic-source",
      "--batch-size",
      "4",
      "--method",
      "kora",
      "--steps",
      "1",
      "--out",
      kora,
      "--json",
    ]);
    expect(trained.code, trained.stderr).toBe(0);
    const out = join(dir, "new", "kora-peft");
    const result = await runKora(["export", "--format", "peft", "--run", kora, "--out", out]);
    expectFailure(result, /peft has no equivalent/);
    expect(existsSync(join(dir, "new"))).toBe(false);
  });

  it("kora cka --svg/--png: OUTPUT_EXISTS naming the existing ones, bytes untouched; --force replaces them", async () => {
    const svg = join(dir, "cka.svg");
    const png = join(dir, "cka.png");
    writeFileSync(svg, SOMEONES);
    expectFailure(
      await runKora(["cka", "--x", BASIC, "--y", BASIC, "--svg", svg, "--png", png]),
      /^kora: error: --svg: .*cka\.svg already exists; choose another --svg, or add --force to replace it/,
    );
    expect(readFileSync(svg)).toEqual(Buffer.from(SOMEONES));
    expect(existsSync(png)).toBe(false);

    const forced = await runKora(["cka", "--x", BASIC, "--y", BASIC, "--svg", svg, "--png", png, "--force"]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(svg, "utf8")).toMatch(/^<svg/);
    expect([...readFileSync(png).subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    // a new folder is made for an output file
    const nested = join(dir, "plots", "deep", "cka.svg");
    const made = await runKora(["cka", "--x", BASIC, "--y", BASIC, "--svg", nested]);
    expect(made.code, made.stderr).toBe(0);
    expect(readFileSync(nested, "utf8")).toMatch(/^<svg/);
  });
});
