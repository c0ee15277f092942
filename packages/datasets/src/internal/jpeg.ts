import jpeg from "jpeg-js";
import { datasetError } from "../errors";
import { resizeBilinear } from "../pipeline/image-ops";

/**
 * @internal Decodes a JPEG to RGB bytes (grayscale and CMYK files come out as RGB), resized to
 * `height × width` when its size differs.
 */
export function decodeJpegRgb(bytes: Uint8Array, source: string, height: number, width: number): Uint8Array {
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxResolutionInMP: 50 });
  } catch (cause) {
    throw datasetError(
      "INVALID_DATASET_FILE",
      `${source}: not a decodable JPEG (${cause instanceof Error ? cause.message : String(cause)})`,
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
