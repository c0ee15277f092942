import type * as FastPng from "fast-png";
import { datasetError } from "../errors";

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

/** @internal Decodes a PNG with an already loaded fast-png module. */
export function decodePng(png: typeof FastPng, bytes: Uint8Array, source: string): PngImage {
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
