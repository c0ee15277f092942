import { checkInteger, datasetError } from "../errors";
import { createRandom, type Random } from "../random/rng";
import type { DomainStyle } from "./domains";
import { SYNTHETIC_SHAPES, SYNTHETIC_TEXTURES, shapeDistance, textureValue } from "./shapes";

/** What {@link renderSyntheticImage} draws. */
export interface SyntheticImageRequest {
  /** Shape index into {@link SYNTHETIC_SHAPES}. */
  shape: number;
  /** Texture index into {@link SYNTHETIC_TEXTURES}. */
  texture: number;
  /** Rendering style. */
  style: DomainStyle;
  /** Seed of every random choice (colours, pose, noise); same seed → same bytes. */
  seed: number;
  /** Image side in pixels (square images). */
  size: number;
}

/** Writes `hsv(h, s, v)` (all in [0, 1]) as RGB in [0, 1] into `out[offset..offset+2]`. */
function hsvToRgb(h: number, s: number, v: number, out: Float64Array, offset: number): void {
  const hh = (h - Math.floor(h)) * 6;
  const i = Math.floor(hh);
  const f = hh - i;
  const p = v * (1 - s);
  const q = v * (1 - s * f);
  const t = v * (1 - s * (1 - f));
  const [r, g, b] =
    i === 0
      ? [v, t, p]
      : i === 1
        ? [q, v, p]
        : i === 2
          ? [p, v, t]
          : i === 3
            ? [p, q, v]
            : i === 4
              ? [t, p, v]
              : [v, p, q];
  out[offset] = r;
  out[offset + 1] = g;
  out[offset + 2] = b;
}

const work = new Map<number, Float32Array>();
function workBuffer(size: number): Float32Array {
  let buffer = work.get(size);
  if (buffer === undefined) {
    buffer = new Float32Array(size * size * 3);
    work.set(size, buffer);
  }
  return buffer;
}

const range = (rng: Random, [min, max]: readonly [number, number]) => rng.uniform(min, max);

/**
 * Renders one procedural image: a shape filled with a two-colour texture on a background, in the style of a
 * domain. Pure and deterministic: the same request gives the same bytes on every platform.
 *
 * @param out - optional destination of `size × size × 3` bytes (RGB, HWC).
 * @param mask - optional destination of `size × size` bytes: 1 where the pixel centre lies inside the shape (the
 *   pixel is at least half shape colour before blur and noise), else 0. Drawing it does not change the image.
 * @returns the RGB bytes.
 */
export function renderSyntheticImage(
  request: SyntheticImageRequest,
  out?: Uint8Array,
  mask?: Uint8Array,
): Uint8Array {
  const { shape, texture, style, size } = request;
  checkInteger(size, "size", 4, 4096);
  checkInteger(shape, "shape", 0, SYNTHETIC_SHAPES.length - 1);
  checkInteger(texture, "texture", 0, SYNTHETIC_TEXTURES.length - 1);
  const pixels = size * size;
  const result = out ?? new Uint8Array(pixels * 3);
  if (result.length !== pixels * 3) {
    throw datasetError("INVALID_ARGUMENT", `out must hold ${pixels * 3} bytes, got ${result.length}`, "out");
  }
  if (mask !== undefined && mask.length !== pixels) {
    throw datasetError("INVALID_ARGUMENT", `mask must hold ${pixels} bytes, got ${mask.length}`, "mask");
  }
  const rng = createRandom(request.seed);

  // Colours: two foreground colours with a guaranteed brightness gap (so the texture shows), two background ones.
  const colors = new Float64Array(12);
  const hue = rng.next();
  const saturation = range(rng, style.saturation);
  const value = range(rng, style.value);
  hsvToRgb(hue, saturation, value, colors, 0);
  hsvToRgb(
    hue + rng.uniform(0.25, 0.75),
    saturation * rng.uniform(0.5, 1),
    value * rng.uniform(0.35, 0.6),
    colors,
    3,
  );
  if (texture === 0) colors.copyWithin(3, 0, 3);
  const bgHue = rng.next();
  let bgValue = range(rng, style.background);
  // Keep at least 0.3 brightness between shape and background, so every image shows its shape.
  if (Math.abs(bgValue - value) < 0.3)
    bgValue = value >= 0.5 ? value - 0.3 - 0.2 * rng.next() : value + 0.3 + 0.2 * rng.next();
  bgValue = Math.min(1, Math.max(0, bgValue));
  const bgSaturation = range(rng, style.backgroundSaturation);
  hsvToRgb(bgHue, bgSaturation, bgValue, colors, 6);
  hsvToRgb(
    bgHue + rng.uniform(-0.15, 0.15),
    bgSaturation,
    Math.min(1, Math.max(0, bgValue + rng.uniform(-0.25, 0.25))),
    colors,
    9,
  );

  // Pose and texture parameters.
  const half = size / 2;
  const radius = range(rng, style.scale) * half;
  const angle = (rng.uniform(-1, 1) * style.rotation * Math.PI) / 180;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const cx = half + rng.uniform(-1, 1) * style.jitter * half;
  const cy = half + rng.uniform(-1, 1) * style.jitter * half;
  const frequency = range(rng, style.frequency);
  const phase = rng.uniform(0, Math.PI);
  const pixelsPerUnit = radius;

  // Background kind and its parameters.
  const kindDraw = rng.next();
  const [pFlat, pGradient] = style.backgroundKinds;
  const kind = kindDraw < pFlat ? 0 : kindDraw < pFlat + pGradient ? 1 : 2;
  const gradientAngle = rng.uniform(0, 2 * Math.PI);
  const gx = Math.cos(gradientAngle) / size;
  const gy = Math.sin(gradientAngle) / size;
  const grid = new Float64Array(25);
  for (let i = 0; i < 25; i++) grid[i] = rng.next();
  const noise = range(rng, style.noise) / 255;
  const blur = rng.next() < style.blur;
  let noiseState = rng.int(0x7fffffff) | 1;

  const buffer = workBuffer(size);
  const c0 = colors[0]!;
  const c1 = colors[1]!;
  const c2 = colors[2]!;
  const d0 = colors[3]! - c0;
  const d1 = colors[4]! - c1;
  const d2 = colors[5]! - c2;
  const b0 = colors[6]!;
  const b1 = colors[7]!;
  const b2 = colors[8]!;
  const e0 = colors[9]! - b0;
  const e1 = colors[10]! - b1;
  const e2 = colors[11]! - b2;
  const cell = 4 / size;
  for (let y = 0; y < size; y++) {
    const py = y + 0.5 - cy;
    for (let x = 0; x < size; x++) {
      const px = x + 0.5 - cx;
      // Background mix factor.
      let m = 0;
      if (kind === 1) {
        m = 0.5 + (x - half) * gx + (y - half) * gy;
      } else if (kind === 2) {
        const fx = (x + 0.5) * cell;
        const fy = (y + 0.5) * cell;
        const ix = Math.min(3, Math.floor(fx));
        const iy = Math.min(3, Math.floor(fy));
        const tx = fx - ix;
        const ty = fy - iy;
        const g00 = grid[iy * 5 + ix]!;
        const g01 = grid[iy * 5 + ix + 1]!;
        const g10 = grid[(iy + 1) * 5 + ix]!;
        const g11 = grid[(iy + 1) * 5 + ix + 1]!;
        m = (g00 * (1 - tx) + g01 * tx) * (1 - ty) + (g10 * (1 - tx) + g11 * tx) * ty;
      }
      let r = b0 + e0 * m;
      let g = b1 + e1 * m;
      let b = b2 + e2 * m;
      // Shape coverage with one-pixel anti-aliasing.
      const u = (cos * px + sin * py) / pixelsPerUnit;
      const v = (-sin * px + cos * py) / pixelsPerUnit;
      const coverage = 0.5 - shapeDistance(shape, u, v) * pixelsPerUnit;
      // Coverage ≥ ½ ⇔ signed distance ≤ 0: the mask is the shape the anti-aliased fill draws, cut at its middle.
      if (mask !== undefined) mask[y * size + x] = coverage >= 0.5 ? 1 : 0;
      if (coverage > 0) {
        const alpha = Math.min(1, coverage);
        const t = textureValue(texture, u, v, frequency, phase);
        r += (c0 + d0 * t - r) * alpha;
        g += (c1 + d1 * t - g) * alpha;
        b += (c2 + d2 * t - b) * alpha;
      }
      const o = (y * size + x) * 3;
      buffer[o] = r;
      buffer[o + 1] = g;
      buffer[o + 2] = b;
    }
  }
  if (blur) blurInPlace(buffer, size);
  // Quantise with triangular noise (variance matched to `noise`), from a xorshift stream.
  const amplitude = noise * Math.sqrt(6) * 255;
  for (let i = 0; i < pixels * 3; i++) {
    noiseState ^= noiseState << 13;
    noiseState ^= noiseState >>> 17;
    noiseState ^= noiseState << 5;
    const u1 = (noiseState & 0xffff) / 65536;
    const u2 = ((noiseState >>> 16) & 0xffff) / 65536;
    const value = buffer[i]! * 255 + (u1 + u2 - 1) * amplitude;
    result[i] = value <= 0 ? 0 : value >= 255 ? 255 : Math.round(value);
  }
  return result;
}

/** Separable [1, 2, 1] / 4 blur, edges clamped. */
function blurInPlace(buffer: Float32Array, size: number): void {
  const copy = buffer.slice();
  const row = size * 3;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const left = x > 0 ? -3 : 0;
      const right = x < size - 1 ? 3 : 0;
      for (let c = 0; c < 3; c++) {
        const o = y * row + x * 3 + c;
        buffer[o] = (copy[o + left]! + 2 * copy[o]! + copy[o + right]!) * 0.25;
      }
    }
  }
  copy.set(buffer);
  for (let y = 0; y < size; y++) {
    const up = y > 0 ? -row : 0;
    const down = y < size - 1 ? row : 0;
    for (let i = y * row, end = i + row; i < end; i++) {
      buffer[i] = (copy[i + up]! + 2 * copy[i]! + copy[i + down]!) * 0.25;
    }
  }
}
