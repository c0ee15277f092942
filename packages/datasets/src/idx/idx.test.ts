import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { KoraError } from "@kora/spec";
import { describe, expect, it } from "vitest";
import { openDataset } from "../registry/registry";
import { idxBytes } from "../test-support/formats";
import { openIdxDataset, readIdxFile } from "./idx-dataset";
import { parseIdx } from "./parse-idx";

function writeMnistLike(dir: string, prefix: string, n: number, gzip: boolean): Uint8Array {
  const pixels = new Uint8Array(n * 4 * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7) % 256;
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
  const images = idxBytes(0x08, [n, 4, 3], pixels);
  const labelFile = idxBytes(0x08, [n], labels);
  const suffix = gzip ? ".gz" : "";
  writeFileSync(join(dir, `${prefix}-images-idx3-ubyte${suffix}`), gzip ? gzipSync(images) : images);
  writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte${suffix}`), gzip ? gzipSync(labelFile) : labelFile);
  return pixels;
}

describe("parseIdx", () => {
  it("checks the magic numbers 2051 / 2049 and reads big-endian sizes", () => {
    const images = idxBytes(0x08, [2, 2, 2], Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
    const view = new DataView(images.buffer);
    expect(view.getUint32(0, false)).toBe(2051);
    const parsed = parseIdx(images);
    expect(parsed.shape).toEqual([2, 2, 2]);
    expect(Array.from(parsed.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const labels = idxBytes(0x08, [3], Uint8Array.from([9, 8, 7]));
    expect(new DataView(labels.buffer).getUint32(0, false)).toBe(2049);
    expect(Array.from(parseIdx(labels).data)).toEqual([9, 8, 7]);
  });

  it("decodes big-endian int16 / int32 / float32 / float64 bodies", () => {
    const body = new Uint8Array(8);
    new DataView(body.buffer).setInt32(0, -123456, false);
    new DataView(body.buffer).setInt32(4, 7, false);
    expect(Array.from(parseIdx(idxBytes(0x0c, [2], body)).data)).toEqual([-123456, 7]);
    const f = new Uint8Array(8);
    new DataView(f.buffer).setFloat64(0, Math.PI, false);
    expect(parseIdx(idxBytes(0x0e, [1], f)).data[0]).toBe(Math.PI);
    const s = new Uint8Array(4);
    new DataView(s.buffer).setInt16(0, -2, false);
    new DataView(s.buffer).setInt16(2, 300, false);
    expect(Array.from(parseIdx(idxBytes(0x0b, [2], s)).data)).toEqual([-2, 300]);
    const g = new Uint8Array(4);
    new DataView(g.buffer).setFloat32(0, 1.5, false);
    expect(parseIdx(idxBytes(0x0d, [1], g)).dtype).toBe("float32");
    expect(parseIdx(idxBytes(0x0d, [1], g)).data[0]).toBe(1.5);
  });

  it("rejects a bad magic and a size that disagrees with the header", () => {
    const bad = Uint8Array.from([1, 0, 8, 1, 0, 0, 0, 1, 5]);
    expect(() => parseIdx(bad, "x.idx")).toThrowError(/x\.idx: not an IDX file/);
    const short = idxBytes(0x08, [4], Uint8Array.from([1, 2, 3]));
    try {
      parseIdx(short, "short.idx");
      expect.unreachable();
    } catch (error) {
      expect(KoraError.isInstance(error)).toBe(true);
      expect((error as KoraError).code).toBe("INVALID_DATASET_FILE");
      expect((error as KoraError).message).toContain("short.idx");
    }
    expect(() => parseIdx(idxBytes(0x07, [1], Uint8Array.from([1])))).toThrowError(/unsupported IDX magic/);
  });
});

describe("IDX datasets (MNIST layout fixtures)", () => {
  it("reads gzip and raw files identically, train/test/all", async () => {
    const gz = mkdtempSync(join(tmpdir(), "kora-idx-gz-"));
    const raw = mkdtempSync(join(tmpdir(), "kora-idx-raw-"));
    const trainPixels = writeMnistLike(gz, "train", 25, true);
    writeMnistLike(gz, "t10k", 5, true);
    writeMnistLike(raw, "train", 25, false);
    writeMnistLike(raw, "t10k", 5, false);
    expect(readIdxFile(join(gz, "train-images-idx3-ubyte.gz")).data).toEqual(
      readIdxFile(join(raw, "train-images-idx3-ubyte")).data,
    );
    const train = await openDataset("mnist", { root: gz, split: "train", verifyCounts: false });
    expect(train.size).toBe(25);
    expect(train.imageShape).toEqual([4, 3, 1]);
    expect(Array.from(train.get(3).image)).toEqual(Array.from(trainPixels.subarray(36, 48)));
    expect(train.get(13).label).toBe(3);
    const all = await openDataset("mnist", { root: raw, split: "all", verifyCounts: false });
    expect(all.size).toBe(30);
    expect(all.label(27)).toBe(2);
  });

  it("fails on small files when the official counts are checked, and names the missing files", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kora-idx-"));
    writeMnistLike(dir, "train", 10, true);
    await expect(openDataset("mnist", { root: dir, split: "train" })).rejects.toThrowError(
      /official train split has 60000 images, this file has 10/,
    );
    await expect(
      openDataset("mnist", { root: dir, split: "test", verifyCounts: false }),
    ).rejects.toMatchObject({
      code: "DATASET_NOT_FOUND",
      message: expect.stringContaining("t10k-images-idx3-ubyte.gz"),
    });
    await expect(openDataset("mnist", {})).rejects.toMatchObject({ code: "DATASET_NOT_FOUND" });
    await expect(openDataset("fashion-mnist", { root: join(dir, "nope") })).rejects.toMatchObject({
      code: "DATASET_NOT_FOUND",
      message: expect.stringContaining("dataset-fashion-mnist"),
    });
  });

  it("rejects mismatched image / label counts and out-of-range labels", () => {
    const dir = mkdtempSync(join(tmpdir(), "kora-idx-bad-"));
    writeFileSync(join(dir, "train-images-idx3-ubyte"), idxBytes(0x08, [2, 1, 1], Uint8Array.from([1, 2])));
    writeFileSync(join(dir, "train-labels-idx1-ubyte"), idxBytes(0x08, [3], Uint8Array.from([1, 2, 3])));
    const base = {
      name: "mnist",
      root: dir,
      split: "train" as const,
      classes: ["a", "b"],
      hint: "",
      verifyCounts: false,
    };
    expect(() => openIdxDataset(base)).toThrowError(/holds 2 images but .* holds 3 labels/);
    writeFileSync(join(dir, "train-labels-idx1-ubyte"), idxBytes(0x08, [2], Uint8Array.from([1, 2])));
    expect(() => openIdxDataset(base)).toThrowError(/label 2 at index 1 is not below the 2 classes/);
  });
});
