import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { ZipArchive } from "../internal/zip-archive";
import { openDataset } from "../registry/registry";
import { denseDepthFiles, H, W } from "../test-support/dense-depth-files";
import { zipBytes } from "../test-support/formats";
import { openDenseDepthNyu } from "./dense-depth-dataset";

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
