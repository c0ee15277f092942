import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSafetensors, writeSafetensors } from "@kora/spec";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { fixture, runCli, runKora } from "../test-support/run-cli";

const WEIGHTS = fixture("vit", "vit-micro-hf.safetensors");
const CONFIG = fixture("vit", "vit-micro-hf.config.json");
const IO = fixture("vit", "vit-micro-hf.io.safetensors");
const dir = mkdtempSync(join(tmpdir(), "kora-cli-predict-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function maxAbsDiff(a: number[][], b: ArrayLike<number>): number {
  const flat = a.flat();
  expect(flat).toHaveLength(b.length);
  return Math.max(...flat.map((v, i) => Math.abs(v - b[i]!)));
}

describe("kora predict", () => {
  it("gives the fixture's logits to 1e-4 from HF pixel_values (built binary, --json)", () => {
    const { code, stdout } = runCli([
      "predict",
      "--weights",
      WEIGHTS,
      "--config",
      CONFIG,
      "--input",
      IO,
      "--json",
    ]);
    expect(code).toBe(0);
    const { logits } = JSON.parse(stdout) as { logits: number[][] };
    expect(logits).toHaveLength(2);
    const expected = readSafetensors(new Uint8Array(readFileSync(IO))).tensors["logits"]!;
    expect(maxAbsDiff(logits, expected.data as Float32Array)).toBeLessThan(1e-4);
  });

  it("preprocesses a PNG with the config's mean/std (same logits as the equivalent pixel_values)", async () => {
    const side = 32;
    const rgb = Uint8Array.from({ length: side * side * 3 }, (_, i) => (i * 97 + 13) % 256);
    const png = join(dir, "image.png");
    await sharp(rgb, { raw: { width: side, height: side, channels: 3 } })
      .png()
      .toFile(png);
    const pixels = new Float32Array(3 * side * side); // NCHW, (x / 255 − 0.5) / 0.5
    for (let y = 0; y < side; y++)
      for (let x = 0; x < side; x++)
        for (let c = 0; c < 3; c++)
          pixels[c * side * side + y * side + x] = (rgb[(y * side + x) * 3 + c]! / 255 - 0.5) / 0.5;
    const values = join(dir, "pixels.safetensors");
    writeFileSync(
      values,
      writeSafetensors({ pixel_values: { dtype: "F32", shape: [1, 3, side, side], data: pixels } }),
    );
    const fromPng = await runKora([
      "predict",
      "--weights",
      WEIGHTS,
      "--config",
      CONFIG,
      "--input",
      png,
      "--json",
    ]);
    const fromValues = await runKora([
      "predict",
      "--weights",
      WEIGHTS,
      "--config",
      CONFIG,
      "--input",
      values,
      "--json",
    ]);
    expect(fromPng.code).toBe(0);
    expect(fromValues.code).toBe(0);
    const a = JSON.parse(fromPng.stdout).logits as number[][];
    const b = JSON.parse(fromValues.stdout).logits as number[][];
    expect(maxAbsDiff(a, b.flat())).toBeLessThan(1e-5);

    const text = await runKora([
      "predict",
      "--weights",
      WEIGHTS,
      "--config",
      CONFIG,
      "--input",
      png,
      "--top-k",
      "2",
    ]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^#\s+class\s+probability\s+logit\n/);
    expect(text.stdout).toMatch(/\n1\s+class_\d \(\d\)\s+0\.\d{4}\s+-?\d+\.\d{4}\n2\s+class_\d/);
  });

  it("failures exit 1 with one line; bad usage exits 2 naming the flag", async () => {
    const noPixels = await runKora(["predict", "--weights", WEIGHTS, "--config", CONFIG, "--input", WEIGHTS]);
    expect(noPixels.code).toBe(1);
    expect(noPixels.stderr).toMatch(/kora: error: --input: .* has no "pixel_values" tensor/);
    const noWeights = await runKora([
      "predict",
      "--weights",
      join(dir, "missing.safetensors"),
      "--config",
      CONFIG,
      "--input",
      IO,
    ]);
    expect(noWeights.code).toBe(1);
    expect(noWeights.stderr.trim().split("\n")).toHaveLength(1);
    expect(noWeights.stderr).toContain("missing.safetensors");
    const noInput = await runKora(["predict", "--weights", WEIGHTS]);
    expect(noInput.code).toBe(2);
    expect(noInput.stderr).toMatch(/required option '--input <file>' not specified/);
    const typo = await runKora(["predict", "--weights", WEIGHTS, "--input", IO, "--topk", "3"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/unknown option '--topk' \(Did you mean --top-k\?\)/);
  });
});
