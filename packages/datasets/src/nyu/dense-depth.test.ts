import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { deflateRawSync } from "node:zlib";
import { encode as encodePng } from "fast-png";
import jpeg from "jpeg-js";
import { describe, expect, it } from "vitest";
import { ZipArchive } from "../internal/zip-archive";
import { openDataset } from "../registry/registry";
import { openDenseDepthNyu } from "./dense-depth-dataset";

const H = 12;
const W = 16;

/** CRC-32 (IEEE), as the ZIP format requires. */
function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** Writes a ZIP archive in the PKWARE format: deflate or stored entries, optionally with ZIP64 records. */
function zipBytes(files: Record<string, Uint8Array>, zip64: boolean): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  let index = 0;
  for (const [name, data] of Object.entries(files)) {
    const deflate = index++ % 2 === 0;
    const body = deflate ? new Uint8Array(deflateRawSync(data)) : data;
    const nameBytes = new TextEncoder().encode(name);
    const extra = zip64 ? new Uint8Array(4 + 24) : new Uint8Array(0);
    if (zip64) {
      const view = new DataView(extra.buffer);
      view.setUint16(0, 0x0001, true);
      view.setUint16(2, 24, true);
      view.setBigUint64(4, BigInt(data.length), true);
      view.setBigUint64(12, BigInt(body.length), true);
      view.setBigUint64(20, BigInt(offset), true);
    }
    const local = new Uint8Array(30 + nameBytes.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, deflate ? 8 : 0, true);
    lv.setUint32(14, crc32(data), true);
    lv.setUint32(18, body.length, true);
    lv.setUint32(22, data.length, true);
    lv.setUint16(26, nameBytes.length, true);
    local.set(nameBytes, 30);
    const entry = new Uint8Array(46 + nameBytes.length + extra.length);
    const cv = new DataView(entry.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 45, true);
    cv.setUint16(6, zip64 ? 45 : 20, true);
    cv.setUint16(10, deflate ? 8 : 0, true);
    cv.setUint32(16, crc32(data), true);
    cv.setUint32(20, zip64 ? 0xffffffff : body.length, true);
    cv.setUint32(24, zip64 ? 0xffffffff : data.length, true);
    cv.setUint16(28, nameBytes.length, true);
    cv.setUint16(30, extra.length, true);
    cv.setUint32(42, zip64 ? 0xffffffff : offset, true);
    entry.set(nameBytes, 46);
    entry.set(extra, 46 + nameBytes.length);
    parts.push(local, body);
    central.push(entry);
    offset += local.length + body.length;
  }
  const directoryOffset = offset;
  const directorySize = central.reduce((sum, e) => sum + e.length, 0);
  parts.push(...central);
  const count = central.length;
  if (zip64) {
    const record = new Uint8Array(56);
    const rv = new DataView(record.buffer);
    rv.setUint32(0, 0x06064b50, true);
    rv.setBigUint64(4, 44n, true);
    rv.setUint16(12, 45, true);
    rv.setUint16(14, 45, true);
    rv.setBigUint64(24, BigInt(count), true);
    rv.setBigUint64(32, BigInt(count), true);
    rv.setBigUint64(40, BigInt(directorySize), true);
    rv.setBigUint64(48, BigInt(directoryOffset), true);
    const locator = new Uint8Array(20);
    const loc = new DataView(locator.buffer);
    loc.setUint32(0, 0x07064b50, true);
    loc.setBigUint64(8, BigInt(directoryOffset + directorySize), true);
    loc.setUint32(16, 1, true);
    parts.push(record, locator);
  }
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, zip64 ? 0xffff : count, true);
  ev.setUint16(10, zip64 ? 0xffff : count, true);
  ev.setUint32(12, zip64 ? 0xffffffff : directorySize, true);
  ev.setUint32(16, zip64 ? 0xffffffff : directoryOffset, true);
  parts.push(end);
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

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
