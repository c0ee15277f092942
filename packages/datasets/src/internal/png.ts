import type * as FastPng from "fast-png";
import { datasetError } from "../errors";
import { DEFAULT_DATASET_LIMITS, limitExceeded } from "../limits";

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

/**
 * @internal Checks a PNG's header before it is decoded: the signature, the IHDR fields, `width × height` against
 * `maxImagePixels`, and the image's raw size against what its IDAT chunks could hold at deflate's best ratio
 * (about 1032:1) — a file that claims more pixels than its data can encode is damaged or lying, and would
 * otherwise make the decoder allocate for the claim (a 68-byte file claiming 60 000 × 60 000 once took minutes
 * and gigabytes). Walks the chunk list once, in time linear in the number of chunks.
 *
 * @throws KoraError `INVALID_DATASET_FILE`, `LIMIT_EXCEEDED`.
 */
export function checkPngHeader(bytes: Uint8Array, source: string, maxImagePixels: number): void {
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
  let compressed = 0;
  for (let offset = 33; offset + 8 <= bytes.length; ) {
    const length = view.getUint32(offset);
    const type = view.getUint32(offset + 4);
    if (type === 0x49444154) compressed += Math.min(length, bytes.length - offset - 8); // IDAT
    if (type === 0x49454e44) break; // IEND
    offset += 12 + length;
  }
  // Each row is a filter byte plus ceil(width × samples × bitDepth / 8) bytes (interlaced images are a little
  // larger, never smaller).
  const raw = height * (1 + Math.ceil((width * samples! * bitDepth) / 8));
  if (raw > compressed * 1032 + 1024) {
    fail(
      `IHDR says ${width}×${height} (${raw} bytes of pixel data) but the IDAT chunks hold ${compressed} bytes`,
    );
  }
}

/**
 * @internal Decodes a PNG with an already loaded fast-png module, after {@link checkPngHeader}; fast-png's own
 * errors become `INVALID_DATASET_FILE`.
 */
export function decodePng(
  png: typeof FastPng,
  bytes: Uint8Array,
  source: string,
  maxImagePixels: number = DEFAULT_DATASET_LIMITS.maxImagePixels,
): PngImage {
  checkPngHeader(bytes, source, maxImagePixels);
  try {
    const decoded = png.decode(bytes);
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
