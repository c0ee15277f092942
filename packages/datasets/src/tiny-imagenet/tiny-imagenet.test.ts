import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import jpeg from "jpeg-js";
import { describe, expect, it } from "vitest";
import { openDataset } from "../registry/registry";
import { openTinyImageNet } from "./tiny-imagenet-dataset";

/**
 * A baseline grayscale (1-component) JPEG. jpeg-js's encoder always writes 3 components (YCbCr), so this helper
 * writes one by hand: 8×8 blocks with only a DC coefficient (each block a flat gray `blocks[by][bx]`), an
 * all-ones quantisation table and minimal Huffman tables (12 DC categories as 4-bit codes; AC holds only EOB).
 * With DC = 8·(v − 128) the decoder's IDCT reproduces v exactly in every pixel of the block.
 */
function grayscaleJpeg(blocks: number[][]): Uint8Array {
  const height = blocks.length * 8;
  const width = blocks[0]!.length * 8;
  const out: number[] = [0xff, 0xd8];
  const segment = (marker: number, body: number[]) =>
    out.push(0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body);
  segment(0xdb, [0x00, ...new Array<number>(64).fill(1)]);
  segment(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0]);
  segment(0xc4, [
    0x00,
    0,
    0,
    0,
    12,
    ...new Array<number>(12).fill(0),
    ...Array.from({ length: 12 }, (_, i) => i),
  ]);
  segment(0xc4, [0x10, 1, ...new Array<number>(15).fill(0), 0x00]);
  segment(0xda, [1, 1, 0x00, 0, 63, 0]);
  let bitBuffer = 0;
  let bitCount = 0;
  const writeBits = (value: number, length: number) => {
    for (let i = length - 1; i >= 0; i--) {
      bitBuffer = (bitBuffer << 1) | ((value >> i) & 1);
      bitCount++;
      if (bitCount === 8) {
        out.push(bitBuffer);
        if (bitBuffer === 0xff) out.push(0x00);
        bitBuffer = 0;
        bitCount = 0;
      }
    }
  };
  let previous = 0;
  for (const row of blocks) {
    for (const value of row) {
      const dc = 8 * (value - 128);
      const diff = dc - previous;
      previous = dc;
      const category = diff === 0 ? 0 : Math.floor(Math.log2(Math.abs(diff))) + 1;
      writeBits(category, 4); // DC code = the category as a 4-bit canonical code
      if (category > 0) writeBits(diff > 0 ? diff : diff + (1 << category) - 1, category);
      writeBits(0, 1); // EOB
    }
  }
  if (bitCount > 0) writeBits((1 << (8 - bitCount)) - 1, 8 - bitCount);
  out.push(0xff, 0xd9);
  return Uint8Array.from(out);
}

const colorOf = (label: number, k: number): [number, number, number] => [
  40 + 50 * label,
  200 - 30 * k,
  90 + 20 * ((label + k) % 3),
];

function colorJpeg(rgb: [number, number, number]): Uint8Array {
  const data = new Uint8Array(64 * 64 * 4);
  for (let p = 0; p < 64 * 64; p++) data.set([...rgb, 255], p * 4);
  return jpeg.encode({ width: 64, height: 64, data }, 95).data;
}

const grayBlocks = Array.from({ length: 8 }, (_, by) =>
  Array.from({ length: 8 }, (_, bx) => 16 + 3 * (by * 8 + bx)),
);

function tinyFolder(): string {
  const parent = mkdtempSync(join(tmpdir(), "kora-tiny-"));
  const root = join(parent, "tiny-imagenet-200");
  const wnids = ["n01443537", "n01629819", "n01641577"];
  mkdirSync(root);
  writeFileSync(join(root, "wnids.txt"), `${wnids.join("\n")}\n`);
  writeFileSync(
    join(root, "words.txt"),
    "n00001740\tentity\nn01443537\tgoldfish, Carassius auratus\nn01629819\tEuropean fire salamander, Salamandra salamandra\nn01641577\tbullfrog, Rana catesbeiana\n",
  );
  wnids.forEach((wnid, label) => {
    const folder = join(root, "train", wnid, "images");
    mkdirSync(folder, { recursive: true });
    for (let k = 0; k < 3; k++)
      writeFileSync(join(folder, `${wnid}_${k}.JPEG`), colorJpeg(colorOf(label, k)));
    writeFileSync(join(root, "train", wnid, `${wnid}_boxes.txt`), "");
  });
  // Item 10 of train (natural order puts _10 after _2): the grayscale one.
  writeFileSync(join(root, "train", wnids[1]!, "images", `${wnids[1]}_10.JPEG`), grayscaleJpeg(grayBlocks));
  mkdirSync(join(root, "val", "images"), { recursive: true });
  writeFileSync(join(root, "val", "images", "val_0.JPEG"), colorJpeg(colorOf(2, 0)));
  writeFileSync(join(root, "val", "images", "val_1.JPEG"), grayscaleJpeg(grayBlocks));
  writeFileSync(
    join(root, "val", "val_annotations.txt"),
    "val_0.JPEG\tn01641577\t0\t0\t63\t63\nval_1.JPEG\tn01443537\t1\t2\t60\t61\n",
  );
  mkdirSync(join(root, "test", "images"), { recursive: true });
  for (let k = 0; k < 2; k++)
    writeFileSync(join(root, "test", "images", `test_${k}.JPEG`), colorJpeg([10, 20, 30]));
  return parent;
}

describe("Tiny-ImageNet-200 folder reader", () => {
  it("decodes the hand-written grayscale JPEG exactly and as RGB", () => {
    const decoded = jpeg.decode(grayscaleJpeg(grayBlocks), { useTArray: true, formatAsRGBA: false });
    expect([decoded.width, decoded.height]).toEqual([64, 64]);
    for (const [y, x] of [
      [0, 0],
      [13, 37],
      [63, 63],
    ] as const) {
      const expected = grayBlocks[y >> 3]![x >> 3]!;
      expect(decoded.data[(y * 64 + x) * 3]).toBe(expected);
      expect(decoded.data[(y * 64 + x) * 3 + 1]).toBe(expected);
      expect(decoded.data[(y * 64 + x) * 3 + 2]).toBe(expected);
    }
  });

  it("reads train (wnids order, natural file order), val annotations and unlabelled test", async () => {
    const parent = tinyFolder();
    const train = openTinyImageNet({ root: parent, verifyCounts: false });
    expect(train.size).toBe(10);
    expect(train.classes).toEqual([
      "goldfish, Carassius auratus",
      "European fire salamander, Salamandra salamandra",
      "bullfrog, Rana catesbeiana",
    ]);
    expect(train.wnids[2]).toBe("n01641577");
    expect(Array.from({ length: 10 }, (_, i) => train.label(i))).toEqual([0, 0, 0, 1, 1, 1, 1, 2, 2, 2]);
    expect(train.file(6)).toMatch(/n01629819_10\.JPEG$/);
    const { image, label } = train.get(4);
    expect(label).toBe(1);
    const [r, g, b] = colorOf(1, 1);
    expect(Math.abs(image[(32 * 64 + 32) * 3]! - r)).toBeLessThanOrEqual(6);
    expect(Math.abs(image[(32 * 64 + 32) * 3 + 1]! - g)).toBeLessThanOrEqual(6);
    expect(Math.abs(image[(32 * 64 + 32) * 3 + 2]! - b)).toBeLessThanOrEqual(6);
    const gray = train.get(6).image;
    expect(gray).toHaveLength(64 * 64 * 3);
    expect([gray[(20 * 64 + 50) * 3], gray[(20 * 64 + 50) * 3 + 1], gray[(20 * 64 + 50) * 3 + 2]]).toEqual([
      grayBlocks[2]![6],
      grayBlocks[2]![6],
      grayBlocks[2]![6],
    ]);

    const val = await openDataset("tiny-imagenet", {
      root: join(parent, "tiny-imagenet-200"),
      split: "val",
      verifyCounts: false,
    });
    expect(val.size).toBe(2);
    expect([val.label(0), val.label(1)]).toEqual([2, 0]);
    expect(val.get(1).image[0]).toBe(grayBlocks[0]![0]);
    const test = await openDataset("tiny-imagenet", { root: parent, split: "test", verifyCounts: false });
    expect(test.size).toBe(2);
    expect(test.get(1).label).toBe(-1);
  });

  it("rejects annotation names that escape the dataset folder", () => {
    const parent = tinyFolder();
    const root = join(parent, "tiny-imagenet-200");
    for (const name of ["../../../secret.JPEG", "/etc/passwd", "sub/../../../../x.JPEG"]) {
      writeFileSync(join(root, "val", "val_annotations.txt"), `${name}\tn01443537\t0\t0\t1\t1\n`);
      expect(() => openTinyImageNet({ root, split: "val", verifyCounts: false })).toThrowError(
        expect.objectContaining({
          code: "INVALID_DATASET_FILE",
          message: expect.stringContaining("outside the dataset folder"),
        }),
      );
    }
    writeFileSync(join(root, "val", "val_annotations.txt"), "val_0.JPEG\tn99999999\t0\t0\t1\t1\n");
    expect(() => openTinyImageNet({ root, split: "val", verifyCounts: false })).toThrowError(
      /n99999999 is not in wnids\.txt/,
    );
    writeFileSync(join(root, "wnids.txt"), "../../etc\n");
    expect(() => openTinyImageNet({ root, verifyCounts: false })).toThrowError(/outside the dataset folder/);
  });

  it("checks the official counts and explains a missing root", async () => {
    const parent = tinyFolder();
    expect(() => openTinyImageNet({ root: parent })).toThrowError(/lists 200 classes, this one 3/);
    await expect(openDataset("tiny-imagenet", { root: join(parent, "missing") })).rejects.toMatchObject({
      code: "DATASET_NOT_FOUND",
      message: expect.stringContaining("tiny-imagenet-200.zip"),
    });
    writeFileSync(
      join(parent, "tiny-imagenet-200", "test", "images", "test_9.JPEG"),
      Uint8Array.from([1, 2, 3]),
    );
    const test = openTinyImageNet({ root: parent, split: "test", verifyCounts: false });
    expect(() => test.get(2)).toThrowError(/test_9\.JPEG: not a decodable JPEG/);
  });
});
