// Regression tests for the hostile inputs that broke the @kora/datasets readers in a fuzz campaign: each one used to
// escape as an untyped exception, or to run for minutes and gigabytes, and must now end in a KoraError with a code.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { constants, deflateRawSync, deflateSync, gzipSync } from "node:zlib";
import { KoraError } from "@kora/spec";
import * as fastPng from "fast-png";
import jpeg from "jpeg-js";
import { describe, expect, it } from "vitest";
import { openCifar100 } from "./cifar/cifar-dataset";
import { readIdxFile } from "./idx/idx-dataset";
import { loadH5Wasm } from "./internal/esm-modules";
import { decodeJpegRgb, MAX_JPEG_SCANS } from "./internal/jpeg";
import { decodePng } from "./internal/png";
import { openDenseDepthNyu } from "./nyu/dense-depth-dataset";
import { readMatV5 } from "./nyu/mat-v5";
import { openNyuDepthV2 } from "./nyu/nyu-labeled-dataset";
import {
  idxBytes,
  matV5,
  pngBytes,
  zeroBombGzip,
  zeroBombRaw,
  zeroBombZlib,
  zipBytes,
} from "./test-support/formats";
import { openTinyImageNet } from "./tiny-imagenet/tiny-imagenet-dataset";

const MiB = 1 << 20;
const tempDir = (name: string) => mkdtempSync(join(tmpdir(), `kora-hostile-${name}-`));

/** Runs `run` and returns the KoraError it throws; fails the test on success or on any other exception. */
async function koraErrorOf(run: () => unknown): Promise<KoraError> {
  try {
    await run();
  } catch (error) {
    if (KoraError.isInstance(error)) return error;
    throw new Error(`expected a KoraError, got ${String(error)}`, { cause: error });
  }
  throw new Error("expected a KoraError, but the reader returned");
}

/** A valid MAT v5 file with one double column vector `v`, uncompressed, as raw bytes to damage. */
function plainMat(): Uint8Array {
  return matV5({ v: [1, 2, 3] }, false);
}

describe("MAT v5 reader (splits.mat)", () => {
  it("a miMATRIX whose array-flags element is shorter than 4 bytes is INVALID_DATASET_FILE, not a DataView RangeError", async () => {
    const bytes = plainMat();
    // The flags sub-element sits at 128 (matrix tag) + 8; its tag is [type 6, size 8]: declare size 2 instead.
    new DataView(bytes.buffer).setUint32(128 + 8 + 4, 2, true);
    const error = await koraErrorOf(() => readMatV5(bytes, "splits.mat"));
    expect(error.code).toBe("INVALID_DATASET_FILE");
    expect(error.message).toContain("splits.mat");
  });

  it("a data element whose length is not a multiple of its element size is INVALID_DATASET_FILE, not 'Invalid typed array length'", async () => {
    const bytes = plainMat();
    // Flags (16) + dims (16) + name (8 + 8) after the matrix tag: the real-part tag is [type 9, size 24]; say 20.
    new DataView(bytes.buffer).setUint32(128 + 8 + 16 + 16 + 16 + 4, 20, true);
    const error = await koraErrorOf(() => readMatV5(bytes, "splits.mat"));
    expect(error.code).toBe("INVALID_DATASET_FILE");
  });

  /** A MAT file whose one miCOMPRESSED element inflates to a miMATRIX tag declaring `declared` bytes + 64 MiB of 0. */
  function matBomb(declared: number): Uint8Array {
    const tag = new Uint8Array(8);
    new DataView(tag.buffer).setUint32(0, 14, true); // miMATRIX
    new DataView(tag.buffer).setUint32(4, declared, true);
    const bomb = zeroBombZlib(64, tag);
    const header = matV5({}, false);
    const bytes = new Uint8Array(header.length + 8 + bomb.length);
    bytes.set(header);
    const view = new DataView(bytes.buffer);
    view.setUint32(header.length, 15, true); // miCOMPRESSED
    view.setUint32(header.length + 4, bomb.length, true);
    bytes.set(bomb, header.length + 8);
    return bytes;
  }

  it("a zlib bomb that declares its size is LIMIT_EXCEEDED before it is inflated (was 2.2 GB)", async () => {
    const error = await koraErrorOf(() =>
      readMatV5(matBomb(64 * MiB), "bomb.mat", { maxFileBytes: 8 * MiB }),
    );
    expect(error.code).toBe("LIMIT_EXCEEDED");
    expect(error.message).toContain("maxFileBytes");
  });

  it("a zlib bomb that lies about its size stops just past the claim with INVALID_DATASET_FILE", async () => {
    const error = await koraErrorOf(() => readMatV5(matBomb(16), "bomb.mat"));
    expect(error.code).toBe("INVALID_DATASET_FILE");
    expect(error.message).toMatch(/more than .*declares/);
  });
});

describe("IDX reader (gzip)", () => {
  it("a gzip whose IDX header declares 2 GiB is LIMIT_EXCEEDED before anything is inflated", async () => {
    const dir = tempDir("idx");
    const header = idxBytes(0x08, [2048, 1024, 1024], new Uint8Array(0));
    writeFileSync(join(dir, "bomb-idx3-ubyte.gz"), zeroBombGzip(4, header));
    const error = await koraErrorOf(() => readIdxFile(join(dir, "bomb-idx3-ubyte.gz")));
    expect(error.code).toBe("LIMIT_EXCEEDED");
    expect(error.message).toContain("bomb-idx3-ubyte.gz");
  });

  it("a gzip that inflates past the size its header declares stops there with INVALID_DATASET_FILE", async () => {
    const dir = tempDir("idx-lie");
    const header = idxBytes(0x08, [10, 28, 28], new Uint8Array(0));
    writeFileSync(join(dir, "lie-idx3-ubyte.gz"), zeroBombGzip(64, header));
    const error = await koraErrorOf(() => readIdxFile(join(dir, "lie-idx3-ubyte.gz")));
    expect(error.code).toBe("INVALID_DATASET_FILE");
    expect(error.message).toMatch(/more than .*declares/);
  });
});

/** A DenseDepth-style zip holding the test CSV (one pair) and the given PNGs. */
function denseDepthZip(dir: string, files: Parameters<typeof zipBytes>[0]): string {
  const path = join(dir, "nyu_data.zip");
  writeFileSync(path, zipBytes(files, false));
  return path;
}

describe("ZIP reader (DenseDepth nyu_data.zip)", () => {
  const csv = new TextEncoder().encode("data/a.png,data/b.png\n");

  it("a central directory that claims more bytes than the file holds is INVALID_DATASET_FILE, not a RangeError", async () => {
    const dir = tempDir("zip-dir");
    const bytes = zipBytes({ "data/nyu2_test.csv": csv }, false);
    new DataView(bytes.buffer).setUint32(bytes.length - 22 + 12, 0xfffffff0, true); // directory size
    writeFileSync(join(dir, "nyu_data.zip"), bytes);
    const error = await koraErrorOf(() =>
      openDenseDepthNyu({ root: dir, split: "test", verifyCounts: false }),
    );
    expect(error.code).toBe("INVALID_DATASET_FILE");
    expect(error.message).toContain("nyu_data.zip");
  });

  it("an extra field that runs past the central directory is INVALID_DATASET_FILE, not a DataView RangeError", async () => {
    const dir = tempDir("zip-extra");
    const bytes = zipBytes({ "data/nyu2_test.csv": csv }, false);
    const view = new DataView(bytes.buffer);
    const directoryOffset = view.getUint32(bytes.length - 22 + 16, true);
    view.setUint16(directoryOffset + 30, 4000, true); // extra length
    writeFileSync(join(dir, "nyu_data.zip"), bytes);
    const error = await koraErrorOf(() =>
      openDenseDepthNyu({ root: dir, split: "test", verifyCounts: false }),
    );
    expect(error.code).toBe("INVALID_DATASET_FILE");
  });

  it("an entry whose compressed size runs past the end of the file is INVALID_DATASET_FILE, not 'Invalid typed array length'", async () => {
    const dir = tempDir("zip-entry");
    const bytes = zipBytes({ "data/nyu2_test.csv": csv }, false);
    const view = new DataView(bytes.buffer);
    const directoryOffset = view.getUint32(bytes.length - 22 + 16, true);
    view.setUint32(directoryOffset + 20, 0xfffffff0, true); // compressed size
    writeFileSync(join(dir, "nyu_data.zip"), bytes);
    const error = await koraErrorOf(() =>
      openDenseDepthNyu({ root: dir, split: "test", verifyCounts: false }),
    );
    expect(error.code).toBe("INVALID_DATASET_FILE");
  });

  it("a CSV entry declaring 600 MB is LIMIT_EXCEEDED before inflating (was 'Cannot create a string longer than…')", async () => {
    const dir = tempDir("zip-csv-bomb");
    denseDepthZip(dir, { "data/nyu2_test.csv": { deflated: zeroBombRaw(600), size: 600 * MiB } });
    const error = await koraErrorOf(() =>
      openDenseDepthNyu({ root: dir, split: "test", verifyCounts: false }),
    );
    expect(error.code).toBe("LIMIT_EXCEEDED");
    expect(error.message).toContain("maxTextBytes");
  });

  it("an entry that inflates past its declared size stops there with INVALID_DATASET_FILE", async () => {
    const dir = tempDir("zip-lie");
    denseDepthZip(dir, { "data/nyu2_test.csv": { deflated: zeroBombRaw(64), size: 100 } });
    const error = await koraErrorOf(() =>
      openDenseDepthNyu({ root: dir, split: "test", verifyCounts: false }),
    );
    expect(error.code).toBe("INVALID_DATASET_FILE");
    expect(error.message).toMatch(/more than .*declares/);
  });

  it("a 68-byte depth PNG whose IHDR claims 60000×60000 is refused before decoding (was 170 s and 4.27 GB)", async () => {
    const dir = tempDir("png-ihdr");
    const png = pngBytes(60_000, 60_000, 16, 0, deflateSync(new Uint8Array(3)));
    expect(png.length).toBeLessThanOrEqual(68);
    denseDepthZip(dir, { "data/nyu2_test.csv": csv, "data/a.png": png, "data/b.png": png });
    const error = await koraErrorOf(() =>
      openDenseDepthNyu({ root: dir, split: "test", verifyCounts: false }),
    );
    expect(error.code).toBe("LIMIT_EXCEEDED");
    expect(error.message).toContain("data/b.png");
  });

  it("a PNG whose IHDR claims more pixels than its compressed data could ever hold is INVALID_DATASET_FILE", async () => {
    const dir = tempDir("png-ratio");
    const png = pngBytes(2000, 2000, 8, 0, deflateSync(new Uint8Array(3)));
    denseDepthZip(dir, { "data/nyu2_test.csv": csv, "data/a.png": png, "data/b.png": png });
    const error = await koraErrorOf(() =>
      openDenseDepthNyu({ root: dir, split: "test", verifyCounts: false }),
    );
    expect(error.code).toBe("INVALID_DATASET_FILE");
    expect(error.message).toContain("data/b.png");
  });
});

describe("a directory where a file is expected (was EISDIR)", () => {
  it("CIFAR-100: fine_label_names.txt as a directory is INVALID_DATASET_FILE naming the path", async () => {
    const dir = tempDir("cifar-eisdir");
    writeFileSync(join(dir, "test.bin"), new Uint8Array(2 * 3074));
    mkdirSync(join(dir, "fine_label_names.txt"));
    const error = await koraErrorOf(() => openCifar100({ root: dir, split: "test", verifyCounts: false }));
    expect(error.code).toBe("INVALID_DATASET_FILE");
    expect(error.message).toContain(join(dir, "fine_label_names.txt"));
    expect(error.message).toContain("directory");
  });

  it("Tiny-ImageNet: val_annotations.txt as a directory is INVALID_DATASET_FILE naming the path", async () => {
    const dir = tempDir("tiny-eisdir");
    writeFileSync(join(dir, "wnids.txt"), "n01\n");
    mkdirSync(join(dir, "val", "val_annotations.txt"), { recursive: true });
    const error = await koraErrorOf(() => openTinyImageNet({ root: dir, split: "val", verifyCounts: false }));
    expect(error.code).toBe("INVALID_DATASET_FILE");
    expect(error.message).toContain("val_annotations.txt");
  });
});

describe("NYU labelled .mat through h5wasm", () => {
  const fixture = new URL("./__fixtures__/nyu-labeled-tiny.mat", import.meta.url).pathname;

  async function openAndReadAll(path: string): Promise<void> {
    const dataset = await openNyuDepthV2({ root: path, split: "all", verifyCounts: false });
    try {
      for (let i = 0; i < dataset.size; i++) dataset.get(i);
    } finally {
      dataset.close();
    }
  }

  it("one damaged byte in the HDF5 metadata gives INVALID_DATASET_FILE, not h5wasm's 'error - name not defined!'", async () => {
    // Found by the fuzz suite: byte 1344 of the fixture (3 → 7) makes h5wasm's File.get throw a plain Error.
    const path = join(tempDir("h5-byte"), "nyu_depth_v2_labeled.mat");
    const bytes = new Uint8Array(readFileSync(fixture));
    expect(bytes[1344]).toBe(3);
    bytes[1344] = 7;
    writeFileSync(path, bytes);
    const error = await koraErrorOf(() => openAndReadAll(path));
    expect(error.code).toBe("INVALID_DATASET_FILE");
    expect(error.message).toContain("nyu_depth_v2_labeled.mat");
  });

  it("a labelled .mat cut short inside the HDF5 data gives INVALID_DATASET_FILE", async () => {
    const path = join(tempDir("h5-cut"), "nyu_depth_v2_labeled.mat");
    copyFileSync(fixture, path);
    writeFileSync(path, readFileSync(path).subarray(0, 2048));
    const error = await koraErrorOf(() => openAndReadAll(path));
    expect(error.code).toBe("INVALID_DATASET_FILE");
    expect(error.message).toContain("nyu_depth_v2_labeled.mat");
  });
});

/** The ratio in a `maxInflateRatio` LIMIT_EXCEEDED message ("… is 1016, over the limit maxInflateRatio = 200"). */
function statedRatio(error: KoraError): number {
  const match = /is (\d+), over the limit maxInflateRatio = 200 /.exec(error.message);
  if (match === null) throw new Error(`no ratio in: ${error.message}`);
  return Number(match[1]);
}

describe("decompression ratio cap (limits.maxInflateRatio, default 200; was only capped by size)", () => {
  it("an honest IDX .gz of 4 MiB of zeros (about 1000:1) is LIMIT_EXCEEDED naming the file, its ratio and the cap", async () => {
    const path = join(tempDir("idx-ratio"), "zeros-idx3-ubyte.gz");
    writeFileSync(path, gzipSync(idxBytes(0x08, [4, 1024, 1024], new Uint8Array(4 * MiB))));
    const error = await koraErrorOf(() => readIdxFile(path));
    expect(error.code).toBe("LIMIT_EXCEEDED");
    expect(error.message).toContain(path);
    expect(statedRatio(error)).toBeGreaterThan(900);
    expect(statedRatio(error)).toBeLessThan(1100);
    // The same file is genuine once the cap is raised: the cap refuses, it does not damage.
    const raised = readIdxFile(path, { maxInflateRatio: 2000 });
    expect(raised.shape).toEqual([4, 1024, 1024]);
    expect(raised.dtype).toBe("uint8");
    expect((raised.data as Uint8Array).every((value) => value === 0)).toBe(true);
  });

  it("an IDX .gz whose header declares 200 times its size is refused from the header, before the stream is inflated", async () => {
    // The stream holds the 16-byte header and nothing more: inflating it would fail as truncated; the ratio
    // check comes first.
    const head = deflateRawSync(idxBytes(0x08, [16, 1024, 1024], new Uint8Array(0)), {
      finishFlush: constants.Z_SYNC_FLUSH,
    });
    const bytes = new Uint8Array(10 + head.length + 8);
    bytes.set([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
    bytes.set(head, 10);
    const path = join(tempDir("idx-ratio-head"), "claim-idx3-ubyte.gz");
    writeFileSync(path, bytes);
    const error = await koraErrorOf(() => readIdxFile(path));
    expect(error.code).toBe("LIMIT_EXCEEDED");
    expect(error.message).toContain("maxInflateRatio");
  });

  it("a small stream may inflate past the ratio up to the 1 MiB floor: 60 000 zero labels (about 600:1) read", () => {
    const path = join(tempDir("idx-floor"), "zeros-idx1-ubyte.gz");
    const gz = gzipSync(idxBytes(0x08, [60_000], new Uint8Array(60_000)));
    expect(60_008 / gz.length).toBeGreaterThan(200);
    writeFileSync(path, gz);
    expect(readIdxFile(path).shape).toEqual([60_000]);
  });

  it("a zip entry deflated about 1000:1 (a 4 MiB CSV of blank lines) is LIMIT_EXCEEDED naming the archive and the entry", async () => {
    const dir = tempDir("zip-ratio");
    const gray = pngBytes(2, 2, 8, 0, deflateSync(Uint8Array.from([0, 1, 2, 0, 3, 4])));
    const csv = new TextEncoder().encode(`data/a.png,data/b.png\n${"\n".repeat(4 * MiB)}`);
    denseDepthZip(dir, { "data/nyu2_test.csv": csv, "data/a.png": gray, "data/b.png": gray });
    const error = await koraErrorOf(() =>
      openDenseDepthNyu({ root: dir, split: "test", verifyCounts: false }),
    );
    expect(error.code).toBe("LIMIT_EXCEEDED");
    expect(error.message).toContain("nyu_data.zip");
    expect(error.message).toContain("data/nyu2_test.csv");
    expect(statedRatio(error)).toBeGreaterThan(900);
    const raised = await openDenseDepthNyu({
      root: dir,
      split: "test",
      verifyCounts: false,
      limits: { maxInflateRatio: 2000 },
    });
    expect(raised.size).toBe(1);
    raised.close();
  });

  it("a MAT miCOMPRESSED element of 4 MiB of zeros (about 1000:1) is LIMIT_EXCEEDED naming the file", async () => {
    const bytes = matV5({ v: new Array<number>(512 * 1024).fill(0) }, true);
    const error = await koraErrorOf(() => readMatV5(bytes, "zeros.mat"));
    expect(error.code).toBe("LIMIT_EXCEEDED");
    expect(error.message).toContain("zeros.mat");
    expect(statedRatio(error)).toBeGreaterThan(200);
    expect(readMatV5(bytes, "zeros.mat", { maxInflateRatio: 2000 })["v"]!.data.length).toBe(512 * 1024);
  });

  it("limits.maxInflateRatio must be a positive integer", async () => {
    const error = await koraErrorOf(() => readMatV5(plainMat(), "x.mat", { maxInflateRatio: 0.5 }));
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toContain("limits.maxInflateRatio");
  });
});

describe("PNG decoding (fast-png inflates without a cap, so the readers check first)", () => {
  const ramp = Uint8Array.from([0, 10, 20, 30, 40, 0, 50, 60, 70, 80, 0, 90, 100, 110, 120, 0, 1, 2, 3, 4]);
  /** A valid 4×4 8-bit gray PNG: rows 10 20 30 40 / 50 60 70 80 / 90 100 110 120 / 1 2 3 4, unfiltered. */
  const gray4 = (extra: [string, Uint8Array][] = []) => pngBytes(4, 4, 8, 0, deflateSync(ramp), extra);

  it("a 4×4 PNG whose IDAT inflates to 4 MiB is INVALID_DATASET_FILE before fast-png inflates it (was decoded)", async () => {
    const png = pngBytes(4, 4, 8, 0, deflateSync(new Uint8Array(4 * MiB)));
    const error = await koraErrorOf(() => decodePng(fastPng, png, "data/bomb.png"));
    expect(error.code).toBe("INVALID_DATASET_FILE");
    expect(error.message).toContain("data/bomb.png");
    expect(error.message).toMatch(/inflates to more than the 20 bytes of the 4×4 image/);
  });

  it("a second IHDR claiming 5000×5000 (over maxImagePixels) is INVALID_DATASET_FILE (fast-png took its size)", async () => {
    const ihdr = new Uint8Array(13);
    new DataView(ihdr.buffer).setUint32(0, 5000);
    new DataView(ihdr.buffer).setUint32(4, 5000);
    ihdr.set([8, 0, 0, 0, 0], 8);
    const error = await koraErrorOf(() => decodePng(fastPng, gray4([["IHDR", ihdr]]), "data/two.png"));
    expect(error.code).toBe("INVALID_DATASET_FILE");
    expect(error.message).toContain("a second IHDR");
  });

  it("an iCCP profile is never inflated: a 64 MiB bomb (or a corrupt one) decodes to the same pixels as no profile, with none kept", () => {
    const plain = decodePng(fastPng, gray4(), "plain.png");
    expect(Array.from(plain.data)).toEqual(Array.from(ramp).filter((_, i) => i % 5 !== 0));
    const profile = (stream: Uint8Array) =>
      Uint8Array.from([...new TextEncoder().encode("icc"), 0, 0, ...stream]);
    const corrupt = decodePng(
      fastPng,
      gray4([["iCCP", profile(Uint8Array.from([0x78, 0x9c, 0xff, 0xff]))]]),
      "c.png",
    );
    expect(Array.from(corrupt.data)).toEqual(Array.from(plain.data));
    // fast-png inflated this one whole (64 MiB) and kept it on the image as `iccEmbeddedProfile`.
    const bomb = decodePng(fastPng, gray4([["iCCP", profile(zeroBombZlib(64))]]), "bomb.png");
    expect(Array.from(bomb.data)).toEqual(Array.from(plain.data));
    expect("iccEmbeddedProfile" in bomb).toBe(false); // (not the value itself: a failure would print 64 MiB)
  });

  it("an Adam7-interlaced PNG still decodes (its pixel data is sized pass by pass)", () => {
    // 5×3 gray, pass by pass (columns × rows): 1×1, 1×1, none, 1×1, 3×1, 2×2, 5×1.
    const pixel = (x: number, y: number) => 16 * y + x;
    const passes: [number, number, number, number][] = [
      [0, 0, 8, 8],
      [4, 0, 8, 8],
      [0, 4, 4, 8],
      [2, 0, 4, 4],
      [0, 2, 2, 4],
      [1, 0, 2, 2],
      [0, 1, 1, 2],
    ];
    const raw: number[] = [];
    for (const [x0, y0, dx, dy] of passes) {
      if (x0 >= 5) continue;
      for (let y = y0; y < 3; y += dy) {
        raw.push(0);
        for (let x = x0; x < 5; x += dx) raw.push(pixel(x, y));
      }
    }
    const png = pngBytes(5, 3, 8, 0, deflateSync(Uint8Array.from(raw)));
    png[28] = 1; // interlace method: Adam7 (the CRC is not checked)
    const image = decodePng(fastPng, png, "interlaced.png");
    expect(Array.from(image.data)).toEqual(
      Array.from({ length: 15 }, (_, i) => pixel(i % 5, Math.floor(i / 5))),
    );
  });
});

describe("NYU labelled .mat: element types checked at open", () => {
  it("images of 4 KiB fixed-length strings are INVALID_DATASET_FILE at open, before a frame is allocated", async () => {
    // h5wasm allocates frame elements × element size for each get(): 4 KiB strings would be 3.8 GB a 640×480 frame.
    const h5 = await loadH5Wasm();
    const path = join(tempDir("h5-type"), "nyu_depth_v2_labeled.mat");
    const file = new h5.File(path, "w");
    file.create_dataset({
      name: "images",
      data: new Array<string>(144).fill("x"),
      shape: [1, 3, 8, 6],
      dtype: "S4096",
    });
    file.create_dataset({ name: "depths", data: new Float32Array(48), shape: [1, 8, 6] });
    file.close();
    const error = await koraErrorOf(() => openNyuDepthV2({ root: path, split: "all", verifyCounts: false }));
    expect(error.code).toBe("INVALID_DATASET_FILE");
    expect(error.message).toContain("nyu_depth_v2_labeled.mat");
    expect(error.message).toContain("images");
    expect(error.message).toContain("4096 bytes");
  });
});

describe("JPEG decoding (jpeg-js walks the whole image once per scan)", () => {
  /** A 16×8 baseline JPEG with its one scan (SOS segment and entropy-coded data) repeated `scans` times. */
  function repeatedScans(scans: number): Uint8Array {
    const data = Uint8Array.from({ length: 16 * 8 * 4 }, (_, i) => (i * 29) % 256);
    const bytes = new Uint8Array(jpeg.encode({ width: 16, height: 8, data }, 90).data);
    let sos = 0;
    while (!(bytes[sos] === 0xff && bytes[sos + 1] === 0xda)) sos++;
    const scan = bytes.subarray(sos, bytes.length - 2); // up to the EOI marker
    const out = new Uint8Array(sos + scan.length * scans + 2);
    out.set(bytes.subarray(0, sos));
    for (let k = 0; k < scans; k++) out.set(scan, sos + k * scan.length);
    out.set([0xff, 0xd9], out.length - 2);
    return out;
  }

  it(`a JPEG of ${MAX_JPEG_SCANS + 1} scans is INVALID_DATASET_FILE before decoding (was decoded scan by scan)`, async () => {
    const error = await koraErrorOf(() =>
      decodeJpegRgb(repeatedScans(MAX_JPEG_SCANS + 1), "n01/x.JPEG", 8, 16),
    );
    expect(error.code).toBe("INVALID_DATASET_FILE");
    expect(error.message).toContain("n01/x.JPEG");
    expect(error.message).toContain(`more than ${MAX_JPEG_SCANS} scans`);
  });

  it(`a JPEG of ${MAX_JPEG_SCANS} scans decodes to the same pixels as the one-scan file`, () => {
    const once = decodeJpegRgb(repeatedScans(1), "once.jpg", 8, 16);
    expect(Array.from(decodeJpegRgb(repeatedScans(MAX_JPEG_SCANS), "many.jpg", 8, 16))).toEqual(
      Array.from(once),
    );
  });
});
