import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openDataset } from "../registry/registry";
import { CIFAR10_CLASSES } from "./cifar-dataset";

/** Pixel value of record `r`, channel `c`, row `y`, column `x` in the fixtures: deterministic and non-symmetric. */
const pixel = (r: number, c: number, y: number, x: number) => (r * 31 + c * 85 + y * 7 + x * 3) % 256;

/** Writes CIFAR records in the official binary layout: label byte(s), then R, G, B planes, 32×32 row-major. */
function cifarRecords(labels: number[][], count = labels.length): Uint8Array {
  const labelBytes = labels[0]!.length;
  const recordBytes = labelBytes + 3072;
  const out = new Uint8Array(count * recordBytes);
  for (let r = 0; r < count; r++) {
    const base = r * recordBytes;
    const recordLabels = labels[r % labels.length]!;
    recordLabels.forEach((value, k) => {
      out[base + k] = value;
    });
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) out[base + labelBytes + c * 1024 + y * 32 + x] = pixel(r, c, y, x);
      }
    }
  }
  return out;
}

function cifar10Folder(perBatch: number): string {
  const root = mkdtempSync(join(tmpdir(), "kora-cifar10-"));
  const dir = join(root, "cifar-10-batches-bin");
  mkdirSync(dir);
  for (let b = 1; b <= 5; b++) {
    writeFileSync(
      join(dir, `data_batch_${b}.bin`),
      cifarRecords(Array.from({ length: perBatch }, (_, r) => [(r + b) % 10])),
    );
  }
  writeFileSync(
    join(dir, "test_batch.bin"),
    cifarRecords(Array.from({ length: perBatch }, (_, r) => [r % 10])),
  );
  writeFileSync(join(dir, "batches.meta.txt"), `${CIFAR10_CLASSES.join("\n")}\n\n`);
  return root;
}

function cifar100Folder(train: number, test: number): string {
  const root = mkdtempSync(join(tmpdir(), "kora-cifar100-"));
  const labels = (n: number) => Array.from({ length: n }, (_, r) => [r % 20, (r * 7) % 100]);
  writeFileSync(join(root, "train.bin"), cifarRecords(labels(train)));
  writeFileSync(join(root, "test.bin"), cifarRecords(labels(Math.min(test, 500)), test));
  writeFileSync(
    join(root, "fine_label_names.txt"),
    Array.from({ length: 100 }, (_, i) => `fine_${i}`).join("\n"),
  );
  writeFileSync(
    join(root, "coarse_label_names.txt"),
    `${Array.from({ length: 20 }, (_, i) => `coarse_${i}`).join("\n")}\n\n\n`,
  );
  return root;
}

describe("CIFAR-10 binary reader", () => {
  it("transposes the R,G,B planes to HWC and reads labels across the five training batches", async () => {
    const root = cifar10Folder(4);
    const train = await openDataset("cifar10", { root, verifyCounts: false });
    expect(train.size).toBe(20);
    expect(train.classes).toEqual(CIFAR10_CLASSES);
    expect(train.imageShape).toEqual([32, 32, 3]);
    // Item 9 = record 1 of data_batch_3 (label (1 + 3) % 10 = 4).
    const { image, label } = train.get(9);
    expect(label).toBe(4);
    for (const [y, x] of [
      [0, 0],
      [5, 17],
      [31, 31],
    ] as const) {
      for (let c = 0; c < 3; c++) expect(image[(y * 32 + x) * 3 + c]).toBe(pixel(1, c, y, x));
    }
    const test = await openDataset("cifar10", { root, split: "test", verifyCounts: false });
    expect(test.size).toBe(4);
    expect(test.label(3)).toBe(3);
    const all = await openDataset("cifar10", { root, split: "all", verifyCounts: false });
    expect(all.size).toBe(24);
    expect(all.get(20)).toEqual(test.get(0));
  });

  it("checks the official 10 000 records per file by default", async () => {
    const root = cifar10Folder(2);
    await expect(openDataset("cifar10", { root })).rejects.toThrowError(
      /data_batch_1\.bin: the official file holds 10000 records, this one holds 2/,
    );
    const full = mkdtempSync(join(tmpdir(), "kora-cifar10-full-"));
    writeFileSync(
      join(full, "test_batch.bin"),
      cifarRecords([[0], [1], [2], [3], [4], [5], [6], [7], [8], [9]], 10_000),
    );
    const test = await openDataset("cifar10", { root: full, split: "test" });
    expect(test.size).toBe(10_000);
    const histogram = new Array<number>(10).fill(0);
    for (let i = 0; i < test.size; i++) histogram[test.label(i)]! += 1;
    expect(histogram).toEqual(new Array<number>(10).fill(1000));
  });

  it("names the file and its size when it is not a multiple of 3 073 bytes", async () => {
    const root = cifar10Folder(1);
    writeFileSync(join(root, "cifar-10-batches-bin", "test_batch.bin"), new Uint8Array(3073 * 2 + 5));
    await expect(openDataset("cifar10", { root, split: "test", verifyCounts: false })).rejects.toMatchObject({
      code: "INVALID_DATASET_FILE",
      message: expect.stringMatching(
        /test_batch\.bin: size 6151 bytes is not a multiple of the 3073-byte record size/,
      ),
    });
  });

  it("says what is missing and where to get it", async () => {
    await expect(openDataset("cifar10", { root: "/nonexistent/cifar" })).rejects.toMatchObject({
      code: "DATASET_NOT_FOUND",
      message: expect.stringMatching(
        /\/nonexistent\/cifar does not exist.*cifar-10-binary\.tar\.gz.*cs\.toronto\.edu/,
      ),
    });
    await expect(openDataset("cifar10", {})).rejects.toMatchObject({ code: "DATASET_NOT_FOUND" });
    const root = mkdtempSync(join(tmpdir(), "kora-cifar10-empty-"));
    writeFileSync(join(root, "test_batch.bin"), cifarRecords([[1]]));
    await expect(openDataset("cifar10", { root, verifyCounts: false })).rejects.toThrowError(
      /missing file .*data_batch_1\.bin/,
    );
  });
});

describe("CIFAR-100 binary reader", () => {
  it("reads fine and coarse labels and the name files (blank lines ignored)", async () => {
    const root = cifar100Folder(30, 10);
    const fine = await openDataset("cifar100", { root, verifyCounts: false });
    const coarse = await openDataset("cifar100", { root, labels: "coarse", verifyCounts: false });
    expect(fine.size).toBe(30);
    expect(fine.classes).toHaveLength(100);
    expect(coarse.classes).toHaveLength(20);
    expect(coarse.classes[19]).toBe("coarse_19");
    expect(fine.label(23)).toBe((23 * 7) % 100);
    expect(coarse.label(23)).toBe(3);
    const sample = fine.get(23);
    expect(sample.image[(10 * 32 + 20) * 3 + 2]).toBe(pixel(23, 2, 10, 20));
    expect(sample.image).toEqual(coarse.get(23).image);
  });

  it("accepts the official 10 000-record test.bin and rejects a short train.bin", async () => {
    const root = cifar100Folder(3, 10_000);
    const test = await openDataset("cifar100", { root, split: "test" });
    expect(test.size).toBe(10_000);
    expect(test.get(9_999).image[0]).toBe(pixel(9_999, 0, 0, 0));
    await expect(openDataset("cifar100", { root, split: "train" })).rejects.toThrowError(
      /train\.bin: the official file holds 50000 records, this one holds 3/,
    );
    writeFileSync(join(root, "train.bin"), new Uint8Array(3074 + 1));
    await expect(openDataset("cifar100", { root, verifyCounts: false })).rejects.toThrowError(
      /train\.bin: size 3075 bytes is not a multiple of the 3074-byte record size/,
    );
  });

  it("requires the label-name files", async () => {
    const root = mkdtempSync(join(tmpdir(), "kora-cifar100-nonames-"));
    writeFileSync(join(root, "test.bin"), cifarRecords([[0, 0]]));
    writeFileSync(join(root, "train.bin"), cifarRecords([[0, 0]]));
    await expect(openDataset("cifar100", { root, verifyCounts: false })).rejects.toMatchObject({
      code: "DATASET_NOT_FOUND",
      message: expect.stringContaining("fine_label_names.txt"),
    });
  });
});
