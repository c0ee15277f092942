import jpeg from "jpeg-js";
import { datasetError } from "../errors";
import { DEFAULT_DATASET_LIMITS } from "../limits";
import { resizeBilinear } from "../pipeline/image-ops";

/**
 * @internal Most scans (SOS segments) a JPEG may hold. jpeg-js walks every block of the image for each scan, even
 * one of a few bytes, so a small file of many tiny progressive scans would cost time in proportion to its size
 * times the image's pixels (a megabyte holds tens of thousands of scans of, say, a 16-megapixel image). Encoders write one scan
 * (baseline) or about ten (progressive; optimised progressive scripts a few dozen), so 500 refuses no real file.
 */
export const MAX_JPEG_SCANS = 500;

/**
 * Throws when `bytes` holds more than {@link MAX_JPEG_SCANS} SOS markers. Every `FF DA` pair is counted, wherever
 * it is: an SOS marker that jpeg-js acts on is always one, and entropy-coded data cannot hold one (a data byte
 * `FF` is followed by `00`), so no scan escapes the count whatever the segment lengths say.
 */
function checkScanCount(bytes: Uint8Array, source: string): void {
  let scans = 0;
  for (let i = bytes.indexOf(0xff); i >= 0 && i + 1 < bytes.length; i = bytes.indexOf(0xff, i + 1)) {
    if (bytes[i + 1] === 0xda && ++scans > MAX_JPEG_SCANS) {
      throw datasetError(
        "INVALID_DATASET_FILE",
        `${source}: not a decodable JPEG (more than ${MAX_JPEG_SCANS} scans; encoders write at most a few dozen)`,
        source,
      );
    }
  }
}

/**
 * @internal Decodes a JPEG to RGB bytes (grayscale and CMYK files come out as RGB), resized to
 * `height × width` when its size differs. jpeg-js refuses a frame header over `maxImagePixels` before it
 * allocates, and caps its own allocations at a budget derived from it; a file of more than
 * {@link MAX_JPEG_SCANS} scans is refused before decoding; jpeg-js's errors become `INVALID_DATASET_FILE`.
 */
export function decodeJpegRgb(
  bytes: Uint8Array,
  source: string,
  height: number,
  width: number,
  maxImagePixels: number = DEFAULT_DATASET_LIMITS.maxImagePixels,
): Uint8Array {
  checkScanCount(bytes, source);
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      maxResolutionInMP: maxImagePixels / 1e6,
      // Output plus per-component buffers: generously 16 bytes a pixel, never under jpeg-js's usual 64 MB.
      maxMemoryUsageInMB: Math.max(64, Math.ceil((maxImagePixels * 16) / 2 ** 20)),
    });
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    throw datasetError(
      /limit exceeded/.test(message) ? "LIMIT_EXCEEDED" : "INVALID_DATASET_FILE",
      `${source}: not a decodable JPEG (${message}; limits.maxImagePixels = ${maxImagePixels})`,
      source,
      cause,
    );
  }
  if (decoded.height === height && decoded.width === width) return decoded.data;
  const resized = resizeBilinear(decoded.data, [decoded.height, decoded.width, 3], height, width);
  const out = new Uint8Array(resized.length);
  for (let i = 0; i < resized.length; i++) out[i] = Math.round(resized[i]!);
  return out;
}
