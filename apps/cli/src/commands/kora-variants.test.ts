import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adapterTensorLayout, countParameters, parseAdapterSpec, readSafetensors } from "@kora/spec";
import { afterAll, describe, expect, it } from "vitest";
import { basisFlag } from "../adapter-flags";
import { runKora } from "../test-support/run-cli";

const dir = mkdtempSync(join(tmpdir(), "kora-cli-variants-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function inspect(flags: string[]): Promise<{ spec: unknown; parameters: Record<string, number> }> {
  const { code, stdout, stderr } = await runKora([
    "inspect",
    "--backbone",
    "vit-tiny",
    "--method",
    "kora",
    "--classes",
    "10",
    ...flags,
    "--json",
  ]);
  expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
  return JSON.parse(stdout);
}

const vitTiny = {
  dim: 192,
  depth: 12,
  heads: 3,
  mlpDim: 768,
  numClasses: 10,
  patchSize: 16,
  imageSize: 224,
  channels: 3,
};

describe("--apply and --basis", () => {
  it("parse --basis spellings, leaving the defaults to the spec", () => {
    expect(basisFlag("fixed")).toEqual({ kind: "fixed" });
    expect(basisFlag("rbf")).toEqual({ kind: "rbf" });
    expect(basisFlag("rbf:8")).toEqual({ kind: "rbf", grid: 8 });
    expect(basisFlag("rbf:12:-3,3")).toEqual({ kind: "rbf", grid: 12, range: [-3, 3] });
    expect(basisFlag("bspline:8:3")).toEqual({ kind: "bspline", grid: 8, order: 3 });
    expect(basisFlag("bspline:5:2:-1,1.5")).toEqual({ kind: "bspline", grid: 5, order: 2, range: [-1, 1.5] });
    for (const bad of ["cubic", "rbf:x", "rbf:8:3", "fixed:2", "rbf:-1,1:8", "bspline:8:3:1"]) {
      expect(() => basisFlag(bad), bad).toThrow(/expected fixed, rbf|positive integer|lo,hi/);
    }
  });

  it("kora inspect counts the spec each flag describes (registry counts)", async () => {
    for (const [flags, input] of [
      [["--apply", "composed-qkv"], { apply: "composed-qkv" }],
      [["--basis", "rbf:8"], { composition: { basis: { kind: "rbf", grid: 8 } } }],
      [
        ["--basis", "bspline:5:2:-1,1", "--apply", "composed-qkv", "--d-comp", "6"],
        {
          apply: "composed-qkv",
          composition: { hidden: 6, basis: { kind: "bspline", grid: 5, order: 2, range: [-1, 1] } },
        },
      ],
    ] as [string[], object][]) {
      const result = await inspect(flags);
      const spec = parseAdapterSpec({ method: "kora", ...input });
      expect(result.spec, flags.join(" ")).toEqual(spec);
      expect(result.parameters["adapter"], flags.join(" ")).toBe(countParameters(spec, vitTiny).adapter);
    }
    const plain = await inspect([]);
    const composed = await inspect(["--apply", "composed-qkv"]);
    // fc2 h → 3D adds 2·(h·D + D), the two extra gates 2, per block.
    expect(composed.parameters["adapter"]! - plain.parameters["adapter"]!).toBe(
      12 * (2 * (4 * 192 + 192) + 2),
    );
  });

  it("name the flag in usage errors: a method without the field, a value the spec refuses", async () => {
    for (const [flags, message] of [
      [["--method", "lora", "--apply", "composed-qkv"], /--apply applies to --method kora, not lora/],
      [["--method", "lora", "--basis", "rbf:8"], /--basis applies to --method kora, not lora/],
      [["--method", "kora", "--basis", "rbf:1"], /--basis: .*composition\.basis\.grid/],
      [["--method", "kora", "--basis", "cubic"], /--basis/],
      [["--method", "kora", "--apply", "keys"], /--apply/],
      [
        ["--method", "kora", "--composition", "attention", "--basis", "rbf"],
        /--basis: .*composition\.basis.*mlp/,
      ],
    ] as [string[], RegExp][]) {
      const result = await runKora(["inspect", "--backbone", "vit-tiny", "--classes", "10", ...flags]);
      expect({ flags, code: result.code }).toEqual({ flags, code: 2 });
      expect(result.stderr).toMatch(message);
    }
  });

  it("kora train --apply composed-qkv --basis rbf:4 trains and writes three gates per block and the basis", async () => {
    const out = join(dir, "composed");
    const result = await runKora([
      "train",
      "--backbone",
      "vit-micro",
      "--dataset",
      "synthetic-source",
      "--batch-size",
      "8",
      "--method",
      "kora",
      "--rank",
      "2",
      "--apply",
      "composed-qkv",
      "--basis",
      "rbf:4",
      "--steps",
      "2",
      "--out",
      out,
      "--json",
    ]);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
    const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    const spec = parseAdapterSpec({
      method: "kora",
      rank: 2,
      apply: "composed-qkv",
      composition: { basis: { kind: "rbf", grid: 4 } },
    });
    expect(run.spec).toEqual(spec);
    const { tensors } = readSafetensors(new Uint8Array(readFileSync(join(out, "adapter.safetensors"))));
    const names = Object.keys(tensors).filter((name) => name !== "head.weight" && name !== "head.bias");
    const manifest = JSON.parse(readFileSync(join(out, "adapter.json"), "utf8"));
    expect(names.sort()).toEqual(
      adapterTensorLayout(spec, manifest.backbone, { includeHead: false })
        .map((t) => t.name)
        .sort(),
    );
    expect(names.filter((name) => name.endsWith(".gate")).length).toBe(3 * manifest.backbone.depth);
    expect(names.filter((name) => name.endsWith("basis.coefficients")).length).toBe(manifest.backbone.depth);
  }, 60_000);
});
