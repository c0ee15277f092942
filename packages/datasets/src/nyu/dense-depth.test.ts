import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { encode as encodePng } from "fast-png";
import jpeg from "jpeg-js";
import { describe, expect, it } from "vitest";
import { ZipArchive } from "../internal/zip-archive";
import { openDataset } from "../registry/registry";
import { zipBytes } from "../test-support/formats";
import { openDenseDepthNyu } from "./dense-depth-dataset";

const H = 12;
const W = 16;

/** DenseDepth's layout in miniature: train JPEG + 8-bit PNG (×10/255 m), test PNG + 16-bit PNG (mm). */
function denseDepthFiles(): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  const trainRows: string[] = [];
  for (let k = 0; k < 3; k++) {
    const base = `data/nyu2_train/bedroom_0001_out/${k + 1}`;
    const rgba = new Uint8Array(H * W * 4);
    for (let p = 0; p < H * W; p++) rgba.set([60 + 40 * k, 120, 200 - 50 * k, 255], p * 4);
    files[`${base}.jpg`] = jpeg.encode({ width: W, height: H, data: rgba }, 95).data;
    const depth8 = Uint8Array.from({ length: H * W }, (_, p) => (p * 3 + k * 17) % 256);
    files[`${base}.png`] = encodePng({ width: W, height: H, data: depth8, channels: 1, depth: 8 });
    trainRows.push(`${base}.jpg,${base}.png`);
  }
  files["data/nyu2_train.csv"] = new TextEncoder().encode(`${trainRows.join("\n")}\n`);
  const rgb = Uint8Array.from({ length: H * W * 3 }, (_, i) => (i * 5) % 256);
  const depth16 = Uint16Array.from({ length: H * W }, (_, p) => 500 + p * 37);
  files["data/nyu2_test/00000_colors.png"] = encodePng({
    width: W,
    height: H,
    data: rgb,
    channels: 3,
    depth: 8,
  });
  files["data/nyu2_test/00000_depth.png"] = encodePng({
    width: W,
    height: H,
    data: depth16,
    channels: 1,
    depth: 16,
  });
  files["data/nyu2_test.csv"] = new TextEncoder().encode(
    "data/nyu2_test/00000_colors.png,data/nyu2_test/00000_depth.png\r\n",
  );
  return files;
}

async function checkDataset(root: string) {
  const train = await openDenseDepthNyu({ root, verifyCounts: false });
  expect(train.size).toBe(3);
  expect(train.imageShape).toEqual([H, W, 3]);
  const sample = train.get(2);
  expect(sample.depth[5]).toBeCloseTo(((5 * 3 + 34) % 256) * (10 / 255), 6);
  expect(Math.abs(sample.image[0]! - 140)).toBeLessThanOrEqual(6);
  expect(Math.abs(sample.image[2]! - 100)).toBeLessThanOrEqual(6);
  expect(train.pair(0)[1]).toBe("data/nyu2_train/bedroom_0001_out/1.png");
  train.close();
  const test = await openDataset("nyu-depth-v2", { root, split: "test", verifyCounts: false });
  expect(test.size).toBe(1);
  const t = test.get(0);
  expect(t.depth[0]).toBeCloseTo(0.5, 6);
  expect(t.depth[100]).toBeCloseTo((500 + 100 * 37) / 1000, 6);
  expect(Array.from(t.image.subarray(0, 6))).toEqual([0, 5, 10, 15, 20, 25]);
  test.close();
}

describe("DenseDepth nyu_data.zip layout", () => {
  it("reads the zip in place (deflate and stored entries), plain and ZIP64", async () => {
    for (const zip64 of [false, true]) {
      const dir = mkdtempSync(join(tmpdir(), "kora-densedepth-zip-"));
      writeFileSync(join(dir, "nyu_data.zip"), zipBytes(denseDepthFiles(), zip64));
      const archive = ZipArchive.open(join(dir, "nyu_data.zip"));
      expect(archive.names()).toContain("data/nyu2_test.csv");
      expect(new TextDecoder().decode(archive.read("data/nyu2_test.csv"))).toMatch(
        /^data\/nyu2_test\/00000_colors\.png,/,
      );
      archive.close();
      await checkDataset(dir);
      await checkDataset(join(dir, "nyu_data.zip"));
    }
  });

  it("reads the unzipped folder the same way", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kora-densedepth-dir-"));
    for (const [name, bytes] of Object.entries(denseDepthFiles())) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), bytes);
    }
    await checkDataset(dir);
  });

  it("rejects CSV paths leaving the root, wrong counts and a missing root", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kora-densedepth-bad-"));
    const files = denseDepthFiles();
    files["data/nyu2_test.csv"] = new TextEncoder().encode(
      "../../etc/passwd,data/nyu2_test/00000_depth.png\n",
    );
    writeFileSync(join(dir, "nyu_data.zip"), zipBytes(files, false));
    await expect(openDenseDepthNyu({ root: dir, split: "test", verifyCounts: false })).rejects.toThrowError(
      /outside the dataset folder/,
    );
    await expect(openDenseDepthNyu({ root: dir })).rejects.toThrowError(
      /official data\/nyu2_train\.csv lists 50688 pairs, this one 3/,
    );
    await expect(
      openDataset("nyu-depth-v2", { root: join(dir, "none"), layout: "densedepth" }),
    ).rejects.toMatchObject({
      code: "DATASET_NOT_FOUND",
      message: expect.stringContaining("DenseDepth"),
    });
    writeFileSync(join(dir, "broken.zip"), new Uint8Array(100));
    await expect(openDenseDepthNyu({ root: join(dir, "broken.zip") })).rejects.toThrowError(/not a ZIP file/);
  });
});
