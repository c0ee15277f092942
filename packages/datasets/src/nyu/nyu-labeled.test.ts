import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openDataset } from "../registry/registry";
import { matV5 } from "../test-support/formats";
import { readMatV5 } from "./mat-v5";
import { openNyuDepthV2, readNyuSplitFile } from "./nyu-labeled-dataset";

// src/__fixtures__/nyu-labeled-tiny.mat: HDF5 with a 512-byte MATLAB user block, written by
// make-nyu-labeled-fixture.py beside it: 3 frames of 6×8, images [3, 3, 8, 6], depths [3, 8, 6] (column-major).
const FIXTURE = new URL("../__fixtures__/nyu-labeled-tiny.mat", import.meta.url).pathname;
const pixel = (y: number, x: number, c: number, n: number) => (7 * y + 3 * x + 50 * c + 11 * n) % 256;
const depthAt = (y: number, x: number, n: number) => 0.5 + 0.25 * y + 0.125 * x + n;

describe("NYU Depth V2 labelled .mat (HDF5 with user block) via h5wasm", () => {
  it("reads every frame, transposing MATLAB's column-major storage to HWC", async () => {
    const all = await openNyuDepthV2({ root: FIXTURE, split: "all", verifyCounts: false });
    expect(all.size).toBe(3);
    expect(all.imageShape).toEqual([6, 8, 3]);
    expect(all.depthShape).toEqual([6, 8]);
    for (let n = 0; n < 3; n++) {
      const { image, depth } = all.get(n);
      for (let y = 0; y < 6; y++) {
        for (let x = 0; x < 8; x++) {
          for (let c = 0; c < 3; c++) expect(image[(y * 8 + x) * 3 + c]).toBe(pixel(y, x, c, n));
          expect(depth[y * 8 + x]).toBe(depthAt(y, x, n));
        }
      }
    }
    all.close();
    expect(() => all.get(0)).toThrowError(/was closed/);
  });

  it("applies a split from splits.mat (MAT v5, plain and compressed) or JSON, 1-based", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kora-nyu-"));
    copyFileSync(FIXTURE, join(dir, "nyu_depth_v2_labeled.mat"));
    await expect(openDataset("nyu-depth-v2", { root: dir, verifyCounts: false })).rejects.toMatchObject({
      code: "DATASET_NOT_FOUND",
      message: expect.stringContaining("splits.mat"),
    });
    writeFileSync(join(dir, "splits.mat"), matV5({ trainNdxs: [1, 3], testNdxs: [2] }, true));
    const train = await openDataset("nyu-depth-v2", { root: dir, verifyCounts: false });
    expect(train.size).toBe(2);
    expect(train.get(1).depth[0]).toBe(depthAt(0, 0, 2));
    const test = await openNyuDepthV2({ root: dir, split: "test", verifyCounts: false });
    expect(test.frames).toEqual([2]);
    expect(test.get(0).image[5]).toBe(pixel(0, 1, 2, 1));
    test.close();
    const json = join(dir, "custom.json");
    writeFileSync(json, JSON.stringify({ trainNdxs: [2], testNdxs: [1, 3] }));
    const custom = await openNyuDepthV2({ root: dir, split: "test", splits: json, verifyCounts: false });
    expect(custom.frames).toEqual([1, 3]);
    custom.close();
    const inMemory = await openNyuDepthV2({
      root: dir,
      splits: { trainNdxs: [3], testNdxs: [] },
      verifyCounts: false,
    });
    expect(inMemory.get(0).depth[47]).toBe(depthAt(5, 7, 2));
    inMemory.close();
  });

  it("reads MAT v5 variables and rejects bad splits", async () => {
    const plain = readMatV5(matV5({ trainNdxs: [4, 5, 6], testNdxs: [1] }, false));
    expect(plain["trainNdxs"]!.dims).toEqual([3, 1]);
    expect(Array.from(plain["trainNdxs"]!.data)).toEqual([4, 5, 6]);
    const dir = mkdtempSync(join(tmpdir(), "kora-nyu-bad-"));
    writeFileSync(join(dir, "s.mat"), matV5({ trainNdxs: [1, 2], testNdxs: [2] }, false));
    expect(readNyuSplitFile(join(dir, "s.mat")).testNdxs).toEqual([2]);
    await expect(
      openNyuDepthV2({ root: FIXTURE, splits: join(dir, "s.mat"), verifyCounts: false }),
    ).rejects.toThrowError(/index 2 appears twice/);
    await expect(
      openNyuDepthV2({ root: FIXTURE, splits: { trainNdxs: [0], testNdxs: [] }, verifyCounts: false }),
    ).rejects.toThrowError(/not an index in \[1, 3\]/);
    await expect(
      openNyuDepthV2({ root: FIXTURE, splits: { trainNdxs: [1], testNdxs: [2] } }),
    ).rejects.toThrowError(/official file holds 1449 frames of 480×640, this one 3 of 6×8/);
    writeFileSync(join(dir, "v73.mat"), new Uint8Array(2048));
    await expect(openNyuDepthV2({ root: join(dir, "v73.mat"), split: "all" })).rejects.toThrowError(
      /not a MATLAB v7\.3 \(HDF5\) file/,
    );
    await expect(openDataset("nyu-depth-v2", { root: join(dir, "nowhere") })).rejects.toMatchObject({
      code: "DATASET_NOT_FOUND",
      message: expect.stringContaining("nyu_depth_v2_labeled.mat"),
    });
  });
});
