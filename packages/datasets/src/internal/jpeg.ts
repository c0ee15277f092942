import jpeg from "jpeg-js";
import { datasetError } from "../errors";
import { DEFAULT_DATASET_LIMITS } from "../limits";
import { resizeBilinear } from "../pipeline/image-ops";

/**
 * @internal Decodes a JPEG to RGB bytes (grayscale and CMYK files come out as RGB), resized to
 * `height × width` when its size differs. jpeg-js refuses a frame header over `maxImagePixels` before it
 * allocates, and caps its own allocations at a budget derived from it; its errors become `INVALID_DATASET_FILE`.
 */
export function decodeJpegRgb(
  bytes: Uint8Array,
  source: string,
  height: number,
  width: number,
  maxImagePixels: number = DEFAULT_DATASET_LIMITS.maxImagePixels,
): Uint8Array {
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
