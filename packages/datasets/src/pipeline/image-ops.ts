import { datasetError } from "../errors";

/** Source pixels for the image operations: HWC, bytes (0–255) or floats. */
export type PixelArray = Uint8Array | Float32Array;

/**
 * Bilinear resize of an HWC image (half-pixel centres, edges clamped: the convention of PyTorch
 * `interpolate(..., align_corners=False)` and TF `resize(..., half_pixel_centers=True)`, without antialiasing).
 *
 * @param source - `height × width × channels` pixels.
 * @param out - optional destination of `outHeight × outWidth × channels` floats.
 */
export function resizeBilinear(
  source: PixelArray,
  shape: readonly [height: number, width: number, channels: number],
  outHeight: number,
  outWidth: number,
  out?: Float32Array,
): Float32Array {
  const [h, w, c] = shape;
  if (source.length !== h * w * c) {
    throw datasetError(
      "INVALID_ARGUMENT",
      `resizeBilinear: expected ${h * w * c} values, got ${source.length}`,
      "source",
    );
  }
  if (!(Number.isInteger(outHeight) && outHeight > 0 && Number.isInteger(outWidth) && outWidth > 0)) {
    throw datasetError(
      "INVALID_ARGUMENT",
      `resizeBilinear: bad output size ${outHeight}×${outWidth}`,
      "size",
    );
  }
  const result = out ?? new Float32Array(outHeight * outWidth * c);
  // Source columns and weights depend on x only: compute them once.
  const left = new Int32Array(outWidth);
  const right = new Int32Array(outWidth);
  const weight = new Float32Array(outWidth);
  for (let x = 0; x < outWidth; x++) {
    const fx = Math.min(w - 1, Math.max(0, (x + 0.5) * (w / outWidth) - 0.5));
    const x0 = Math.floor(fx);
    left[x] = x0 * c;
    right[x] = Math.min(w - 1, x0 + 1) * c;
    weight[x] = fx - x0;
  }
  for (let y = 0; y < outHeight; y++) {
    const fy = Math.min(h - 1, Math.max(0, (y + 0.5) * (h / outHeight) - 0.5));
    const y0 = Math.floor(fy);
    const ty = fy - y0;
    const top = y0 * w * c;
    const bottom = Math.min(h - 1, y0 + 1) * w * c;
    let o = y * outWidth * c;
    for (let x = 0; x < outWidth; x++) {
      const tx = weight[x]!;
      const a = top + left[x]!;
      const b = top + right[x]!;
      const d = bottom + left[x]!;
      const e = bottom + right[x]!;
      for (let k = 0; k < c; k++, o++) {
        const upper = source[a + k]! + (source[b + k]! - source[a + k]!) * tx;
        const lower = source[d + k]! + (source[e + k]! - source[d + k]!) * tx;
        result[o] = upper + (lower - upper) * ty;
      }
    }
  }
  return result;
}

/** Nearest-neighbour resize of an HWC image (for depth maps and masks, where averaging across edges is wrong). */
export function resizeNearest(
  source: PixelArray,
  shape: readonly [height: number, width: number, channels: number],
  outHeight: number,
  outWidth: number,
  out?: Float32Array,
): Float32Array {
  const [h, w, c] = shape;
  const result = out ?? new Float32Array(outHeight * outWidth * c);
  for (let y = 0; y < outHeight; y++) {
    const sy = Math.min(h - 1, Math.floor(((y + 0.5) * h) / outHeight));
    for (let x = 0; x < outWidth; x++) {
      const sx = Math.min(w - 1, Math.floor(((x + 0.5) * w) / outWidth));
      for (let k = 0; k < c; k++) result[(y * outWidth + x) * c + k] = source[(sy * w + sx) * c + k]!;
    }
  }
  return result;
}

/** A crop window with padding and an optional mirror, as drawn by the augmentation. */
export interface CropWindow {
  /** Top of the window in padded coordinates (`0 … 2·padding`). */
  top: number;
  /** Left of the window in padded coordinates. */
  left: number;
  /** Zero-padding on every side, in pixels. */
  padding: number;
  /** Mirror left-right after cropping. */
  flip: boolean;
}

/**
 * Random-crop-with-padding and horizontal flip in one pass: pads the `h × w` image by `padding` zeros on every side,
 * takes the `h × w` window at (`top`, `left`) and mirrors it when `flip` is set. The output has the input's shape.
 */
export function cropAndFlip(
  source: PixelArray,
  shape: readonly [height: number, width: number, channels: number],
  window: CropWindow,
  out?: Float32Array,
): Float32Array {
  const [h, w, c] = shape;
  const result = out ?? new Float32Array(h * w * c);
  const dy = window.top - window.padding;
  const dx = window.left - window.padding;
  for (let y = 0; y < h; y++) {
    const sy = y + dy;
    for (let x = 0; x < w; x++) {
      const o = (y * w + (window.flip ? w - 1 - x : x)) * c;
      const sx = x + dx;
      if (sy < 0 || sy >= h || sx < 0 || sx >= w) {
        for (let k = 0; k < c; k++) result[o + k] = 0;
      } else {
        const s = (sy * w + sx) * c;
        for (let k = 0; k < c; k++) result[o + k] = source[s + k]!;
      }
    }
  }
  return result;
}

/** Per-channel normalisation constants, applied as `(pixel / 255 - mean) / std`. */
export interface Normalization {
  /** Per-channel mean (after scaling to [0, 1]). */
  mean: readonly number[];
  /** Per-channel standard deviation. */
  std: readonly number[];
}

/** Common normalisations: ImageNet (timm / torchvision) and HF ViT (0.5 / 0.5). */
export const NORMALIZATIONS = {
  imagenet: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  vit: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
} as const satisfies Record<string, Normalization>;

/**
 * In place: `values[i] = (values[i] / 255 - mean[c]) / std[c]` for HWC data with `channels` channels
 * (a one-entry mean/std applies to every channel).
 */
export function normalizeInPlace(
  values: Float32Array,
  channels: number,
  normalization?: Normalization,
): Float32Array {
  const mean = normalization?.mean ?? [0];
  const std = normalization?.std ?? [1];
  if ((mean.length !== 1 && mean.length !== channels) || (std.length !== 1 && std.length !== channels)) {
    throw datasetError(
      "INVALID_ARGUMENT",
      `normalize: mean/std need 1 or ${channels} entries, got ${mean.length}/${std.length}`,
      "normalize",
    );
  }
  const scale = new Float64Array(channels);
  const shift = new Float64Array(channels);
  for (let k = 0; k < channels; k++) {
    const s = std.length === 1 ? std[0]! : std[k]!;
    const m = mean.length === 1 ? mean[0]! : mean[k]!;
    if (!(s > 0)) throw datasetError("INVALID_ARGUMENT", "normalize: std must be positive", "normalize.std");
    scale[k] = 1 / (255 * s);
    shift[k] = m / s;
  }
  for (let i = 0; i < values.length; i += channels) {
    for (let k = 0; k < channels; k++) values[i + k] = values[i + k]! * scale[k]! - shift[k]!;
  }
  return values;
}
