import { constants, inflateSync } from "node:zlib";
import type * as FastPng from "fast-png";
import { datasetError } from "../errors";
import { DEFAULT_DATASET_LIMITS, limitExceeded } from "../limits";
import { concatBytes } from "./array-dataset";

/** @internal A decoded PNG reduced to what the readers need. */
export interface PngImage {
  width: number;
  height: number;
  /** Samples per pixel (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA). */
  channels: number;
  /** 8 or 16 (lower bit depths are expanded to 8 by the palette / gray conversion below). */
  depth: number;
  data: Uint8Array | Uint16Array | Uint8ClampedArray;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Samples per pixel of each PNG colour type (3, palette, is one index per pixel before expansion). */
const SAMPLES: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Chunk types fast-png is given: the ones that shape the pixels. */
const KEPT_CHUNKS = new Set(["IHDR", "PLTE", "IDAT", "IEND", "tRNS"]);
/** Adam7's seven passes: first column and row, then column and row steps. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/** Bytes of filtered pixel data (a filter byte per row) of a `width` × `height` image, interlaced or not. */
function rawImageBytes(width: number, height: number, bitsPerPixel: number, interlaced: boolean): number {
  const rows = (w: number, h: number) => (w === 0 ? 0 : h * (1 + Math.ceil((w * bitsPerPixel) / 8)));
  if (!interlaced) return rows(width, height);
  let total = 0;
  for (const [x0, y0, dx, dy] of ADAM7) {
    total += rows(Math.max(0, Math.ceil((width - x0) / dx)), Math.max(0, Math.ceil((height - y0) / dy)));
  }
  return total;
}

/**
 * @internal Checks a PNG before it is decoded and returns the bytes to give fast-png. Checked: the signature, the
 * IHDR fields (one IHDR only: fast-png would take a later one's size), `width × height` against `maxImagePixels`,
 * and the image data: its IDAT chunks may hold no more than the image IHDR declares. A file claiming more pixels
 * than its IDAT chunks could hold at deflate's best ratio (about 1032:1) is refused at once (a 68-byte file
 * claiming 60 000 × 60 000 once took minutes and gigabytes); otherwise the IDAT stream is inflated here with its
 * output capped at the declared image's size, because fast-png inflates it whole, without a cap, before looking at
 * the size (a small image with a bomb for data would cost gigabytes). Chunks other than IHDR, PLTE, IDAT, tRNS and
 * IEND are dropped, as fast-png also inflates `iCCP` colour profiles without a cap and the readers use none of them.
 * Time and memory are linear in the file and in the declared image.
 *
 * @throws KoraError `INVALID_DATASET_FILE`, `LIMIT_EXCEEDED`.
 */
export function preparePng(bytes: Uint8Array, source: string, maxImagePixels: number): Uint8Array {
  const fail = (why: string): never => {
    throw datasetError("INVALID_DATASET_FILE", `${source}: not a valid PNG (${why})`, source);
  };
  if (bytes.length < 33 || SIGNATURE.some((byte, i) => bytes[i] !== byte)) fail("no PNG signature");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(8) !== 13 || view.getUint32(12) !== 0x49484452) fail("the first chunk is not IHDR");
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const bitDepth = bytes[24]!;
  const samples = SAMPLES[bytes[25]!];
  if (width === 0 || height === 0) fail(`empty image ${width}×${height}`);
  if (samples === undefined || ![1, 2, 4, 8, 16].includes(bitDepth)) {
    fail(`unsupported colour type ${bytes[25]} / bit depth ${bitDepth}`);
  }
  if (width * height > maxImagePixels) {
    limitExceeded(
      source,
      `the image size ${width}×${height} in pixels`,
      width * height,
      "maxImagePixels",
      maxImagePixels,
    );
  }
  // Chunks are [length, type, data, CRC]; one whose length runs past the end is kept as it is, for fast-png to
  // refuse.
  const kept: Uint8Array[] = [bytes.subarray(0, 33)];
  const idat: Uint8Array[] = [];
  let dropped = false;
  for (let offset = 33; offset + 8 <= bytes.length; ) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    const end = Math.min(bytes.length, offset + 12 + length);
    if (type === "IHDR") fail(`a second IHDR chunk at byte ${offset}`);
    if (type === "IDAT") idat.push(bytes.subarray(offset + 8, Math.min(end, offset + 8 + length)));
    if (KEPT_CHUNKS.has(type)) kept.push(bytes.subarray(offset, end));
    else dropped = true;
    if (type === "IEND") break;
    offset += 12 + length;
  }
  const compressed = idat.reduce((sum, part) => sum + part.length, 0);
  const raw = rawImageBytes(width, height, samples! * bitDepth, bytes[28] === 1);
  if (raw > compressed * 1032 + 1024) {
    fail(
      `IHDR says ${width}×${height} (${raw} bytes of pixel data) but the IDAT chunks hold ${compressed} bytes`,
    );
  }
  try {
    // A stream cut short is left for fast-png to judge; one that produces more than the image is refused here.
    inflateSync(idat.length === 1 ? idat[0]! : concatBytes(idat), {
      finishFlush: constants.Z_SYNC_FLUSH,
      maxOutputLength: Math.max(1, raw),
    });
  } catch (cause) {
    const tooLarge = (cause as { code?: string }).code === "ERR_BUFFER_TOO_LARGE";
    throw datasetError(
      "INVALID_DATASET_FILE",
      tooLarge
        ? `${source}: not a valid PNG (its IDAT data inflates to more than the ${raw} bytes of the ${width}×${height} image its IHDR declares)`
        : `${source}: not a valid PNG (corrupt IDAT data)`,
      source,
      cause,
    );
  }
  return dropped ? concatBytes(kept) : bytes;
}

/**
 * @internal Decodes a PNG with an already loaded fast-png module, after {@link preparePng}; fast-png's own errors
 * become `INVALID_DATASET_FILE`.
 */
export function decodePng(
  png: typeof FastPng,
  bytes: Uint8Array,
  source: string,
  maxImagePixels: number = DEFAULT_DATASET_LIMITS.maxImagePixels,
): PngImage {
  const prepared = preparePng(bytes, source, maxImagePixels);
  try {
    const decoded = png.decode(prepared);
    if (decoded.palette !== undefined) {
      const rgb = png.convertIndexedToRgb(decoded);
      return {
        width: decoded.width,
        height: decoded.height,
        channels: rgb.length / (decoded.width * decoded.height),
        depth: 8,
        data: rgb,
      };
    }
    return decoded;
  } catch (cause) {
    throw datasetError(
      "INVALID_DATASET_FILE",
      `${source}: not a decodable PNG (${cause instanceof Error ? cause.message : String(cause)})`,
      source,
      cause,
    );
  }
}

/** @internal PNG → RGB bytes (gray replicated, alpha dropped, 16-bit scaled to 8). */
export function pngToRgb(image: PngImage): Uint8Array {
  const pixels = image.width * image.height;
  const out = new Uint8Array(pixels * 3);
  const scale = image.depth === 16 ? 1 / 257 : 1;
  const c = image.channels;
  for (let p = 0; p < pixels; p++) {
    for (let k = 0; k < 3; k++) {
      const value = c >= 3 ? image.data[p * c + k]! : image.data[p * c]!;
      out[p * 3 + k] = Math.round(value * scale);
    }
  }
  return out;
}
