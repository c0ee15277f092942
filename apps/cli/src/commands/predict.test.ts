import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
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

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** PNG's CRC-32 (node:zlib's crc32 is not in every Node this repository supports). */
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * A hand-built 8-bit RGB PNG whose IHDR declares `width` × `height` and whose IDAT holds `rows` bytes of image
 * data, deflated: a few bytes can declare a 60000 × 60000 image.
 */
function pngDeclaring(width: number, height: number, rows: Uint8Array): Uint8Array {
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, 2, 0, 0, 0], 8); // bit depth 8, colour type 2 (RGB), deflate, no filter, no interlace
  const parts = [
    Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", new Uint8Array(deflateSync(rows))),
    chunk("IEND", new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

describe("kora predict: hostile images", () => {
  const predict = (input: string) =>
    runKora(["predict", "--weights", WEIGHTS, "--config", CONFIG, "--input", input]);

  it("the hand-built PNG is a real PNG: 2 × 2 with its rows is classified", async () => {
    const file = join(dir, "tiny.png");
    writeFileSync(file, pngDeclaring(2, 2, new Uint8Array(2 * (1 + 2 * 3))));
    const { code, stderr } = await predict(file);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
  });

  it.each([
    [60_000, 60_000],
    [8193, 4096],
  ])(
    "a PNG declaring %i × %i pixels in a few bytes is INVALID_IMAGE from its header, decoding nothing",
    (width, height) => {
      const file = join(dir, `huge-${width}.png`);
      const bytes = pngDeclaring(width, height, new Uint8Array(16));
      expect(bytes.length).toBeLessThan(100);
      writeFileSync(file, bytes);
      // the binary, with runCli's 30-second kill: an image decoded to gigabytes fails the test instead of the machine
      const { code, stderr } = runCli(["predict", "--weights", WEIGHTS, "--config", CONFIG, "--input", file]);
      expect(code).toBe(1);
      expect(stderr).toBe(
        `kora: error: --input: ${file}: the image is ${width} × ${height} pixels; kora predict decodes at most 8192 × 4096 = 33554432 pixels (scale it down first)\n`,
      );
    },
    120_000,
  );

  it("an empty file, garbage and a truncated PNG are one-line INVALID_IMAGE errors naming the file", async () => {
    const cases: [string, Uint8Array][] = [
      ["empty.png", new Uint8Array(0)],
      ["garbage.jpg", Uint8Array.from({ length: 300 }, (_, i) => (i * 37) % 256)],
      ["cut.png", pngDeclaring(2, 2, new Uint8Array(14)).subarray(0, 40)],
    ];
    for (const [name, bytes] of cases) {
      const file = join(dir, name);
      writeFileSync(file, bytes);
      const { code, stderr } = await predict(file);
      expect(code, name).toBe(1);
      expect(stderr.startsWith(`kora: error: --input: ${file}: cannot decode it as an image (`), stderr).toBe(
        true,
      );
      expect(stderr.trim().split("\n"), name).toHaveLength(1);
    }
  });

  it.runIf(process.platform === "linux")(
    "a device (/dev/zero never ends) is refused before it is read",
    async () => {
      const { code, stderr } = await predict("/dev/zero");
      expect(code).toBe(1);
      expect(stderr).toBe("kora: error: --input: /dev/zero is not a regular file or a pipe; give a file\n");
    },
  );
});
