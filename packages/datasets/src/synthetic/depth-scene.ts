import { hashSeed } from "@kora/spec";
import { checkIndex, checkInteger, datasetError } from "../errors";
import { createRandom, type Random } from "../random/rng";
import type { DepthDataset, DepthSample, Split } from "../types";

/** An infinite plane `{ p : p·normal = offset }` with a flat colour (optionally checkered). */
export interface ScenePlane {
  /** Unit normal pointing towards the camera side. */
  normal: readonly [number, number, number];
  /** Plane offset: points p with `p · normal = offset`. */
  offset: number;
  /** RGB in [0, 1]. */
  color: readonly [number, number, number];
  /** Checker period in metres (0 = plain). */
  checker: number;
}

/** An axis-aligned box. */
export interface SceneBox {
  /** Minimum corner (x, y, z) in metres. */
  min: readonly [number, number, number];
  /** Maximum corner (x, y, z) in metres. */
  max: readonly [number, number, number];
  /** RGB in [0, 1]. */
  color: readonly [number, number, number];
}

/** A sphere. */
export interface SceneSphere {
  /** Centre (x, y, z) in metres. */
  center: readonly [number, number, number];
  /** Radius in metres. */
  radius: number;
  /** RGB in [0, 1]. */
  color: readonly [number, number, number];
}

/**
 * A scene for the synthetic depth suite. Camera at the origin looking along +z, y up, pinhole with focal length
 * `focal` relative to the longer image side (`f = focal × max(width, height)` pixels). Depth is the z coordinate of
 * the first hit (as Kinect/NYU depth), in metres.
 */
export interface DepthScene {
  /** Focal length as a multiple of the longer image side. */
  focal: number;
  /** Planes (floor, back wall, optional side wall and ceiling). */
  planes: ScenePlane[];
  /** Boxes. */
  boxes: SceneBox[];
  /** Spheres. */
  spheres: SceneSphere[];
  /** Point light position in metres. */
  light: readonly [number, number, number];
}

/** Minimum and maximum depth the sampled scenes produce, in metres. */
export const SYNTHETIC_DEPTH_RANGE = [0.5, 10] as const;

const color = (rng: Random, saturated: boolean): [number, number, number] => {
  const base = saturated ? 0.15 : 0.55;
  const spread = saturated ? 0.85 : 0.4;
  return [base + spread * rng.next(), base + spread * rng.next(), base + spread * rng.next()];
};

/**
 * Samples a room-like scene: floor, back wall at 6–9.5 m, sometimes a side wall and a ceiling, and 1–4 boxes and
 * spheres standing between 1 m and the wall. Its focal length is at least 0.8, so every ray leaves the camera at
 * most 32° off-axis; with the camera 1–1.6 m above the floor, walls ≥ 2.2 m away and objects ≥ 1 m away, every
 * pixel at any image size sees something between {@link SYNTHETIC_DEPTH_RANGE}[0] and [1] (the back wall, at most
 * 9.5 m, catches every ray).
 */
export function sampleDepthScene(seed: number): DepthScene {
  const rng = createRandom(seed);
  const cameraHeight = rng.uniform(1, 1.6);
  const wall = rng.uniform(6, 9.5);
  const planes: ScenePlane[] = [
    {
      normal: [0, 1, 0],
      offset: -cameraHeight,
      color: color(rng, false),
      checker: rng.next() < 0.5 ? rng.uniform(0.4, 1) : 0,
    },
    { normal: [0, 0, -1], offset: -wall, color: color(rng, false), checker: 0 },
  ];
  if (rng.next() < 0.5) {
    const side = rng.next() < 0.5 ? -1 : 1;
    planes.push({
      normal: [-side, 0, 0],
      offset: -side * rng.uniform(2.2, 4),
      color: color(rng, false),
      checker: 0,
    });
  }
  if (rng.next() < 0.5) {
    planes.push({ normal: [0, -1, 0], offset: -rng.uniform(1.2, 2), color: color(rng, false), checker: 0 });
  }
  const boxes: SceneBox[] = [];
  const spheres: SceneSphere[] = [];
  const objects = 1 + rng.int(4);
  for (let k = 0; k < objects; k++) {
    const x = rng.uniform(-1.8, 1.8);
    if (rng.next() < 0.5) {
      const w = rng.uniform(0.3, 1.2) / 2;
      const d = rng.uniform(0.3, 1.2) / 2;
      const h = rng.uniform(0.3, 1.8);
      const z = rng.uniform(1 + d, wall - 0.5 - d);
      boxes.push({
        min: [x - w, -cameraHeight, z - d],
        max: [x + w, -cameraHeight + h, z + d],
        color: color(rng, true),
      });
    } else {
      const radius = rng.uniform(0.2, 0.6);
      const z = rng.uniform(1 + radius, wall - 0.5 - radius);
      const floating = rng.next() < 0.3 ? rng.uniform(0.2, 0.8) : 0;
      spheres.push({ center: [x, -cameraHeight + radius + floating, z], radius, color: color(rng, true) });
    }
  }
  return {
    focal: rng.uniform(0.8, 1),
    planes,
    boxes,
    spheres,
    light: [rng.uniform(-1.5, 1.5), rng.uniform(0.5, 1.5), rng.uniform(1, 3)],
  };
}

/**
 * Ray-casts `scene` at `height × width`: the exact z-depth of the pixel-centre ray's first hit (computed in float64
 * from the closed-form intersections, stored as float32) and a Lambert-shaded RGB rendering. Pixels whose ray hits
 * nothing get depth 0 (none do for {@link sampleDepthScene} scenes).
 */
export function renderDepthScene(
  scene: DepthScene,
  height: number,
  width: number,
  noiseSeed = 0,
): DepthSample {
  checkInteger(height, "height", 2, 4096);
  checkInteger(width, "width", 2, 4096);
  const image = new Uint8Array(height * width * 3);
  const depth = new Float32Array(height * width);
  const f = scene.focal * Math.max(width, height);
  const noise = createRandom(noiseSeed);
  const [lx, ly, lz] = scene.light;
  for (let y = 0; y < height; y++) {
    const dy = -(y + 0.5 - height / 2) / f;
    for (let x = 0; x < width; x++) {
      const dx = (x + 0.5 - width / 2) / f;
      // Ray p(t) = t · (dx, dy, 1); since the z component is 1, t is the z-depth.
      let best = Number.POSITIVE_INFINITY;
      let nx = 0;
      let ny = 0;
      let nz = 0;
      let cr = 0;
      let cg = 0;
      let cb = 0;
      let checker = 0;
      for (const plane of scene.planes) {
        const [a, b, c] = plane.normal;
        const denominator = a * dx + b * dy + c;
        if (denominator >= 0) continue; // facing away or parallel
        const t = plane.offset / denominator;
        if (t > 0 && t < best) {
          best = t;
          [nx, ny, nz] = plane.normal;
          [cr, cg, cb] = plane.color;
          checker = plane.checker;
        }
      }
      for (const box of scene.boxes) {
        // Slab method; the camera is outside every box.
        let near = 0;
        let far = Number.POSITIVE_INFINITY;
        let axis = -1;
        const direction = [dx, dy, 1] as const;
        for (let k = 0; k < 3; k++) {
          const dk = direction[k]!;
          const lo = box.min[k]!;
          const hi = box.max[k]!;
          if (Math.abs(dk) < 1e-12) {
            if (lo > 0 || hi < 0) {
              near = Number.POSITIVE_INFINITY;
              break;
            }
            continue;
          }
          const t1 = lo / dk;
          const t2 = hi / dk;
          const tNear = Math.min(t1, t2);
          if (tNear > near) {
            near = tNear;
            axis = k;
          }
          far = Math.min(far, Math.max(t1, t2));
        }
        if (axis >= 0 && near <= far && near > 0 && near < best) {
          best = near;
          const sign = direction[axis]! > 0 ? -1 : 1;
          nx = axis === 0 ? sign : 0;
          ny = axis === 1 ? sign : 0;
          nz = axis === 2 ? sign : 0;
          [cr, cg, cb] = box.color;
          checker = 0;
        }
      }
      for (const sphere of scene.spheres) {
        const [sx, sy, sz] = sphere.center;
        // |t d - s|² = r²  →  (d·d) t² - 2 (d·s) t + (s·s - r²) = 0
        const dd = dx * dx + dy * dy + 1;
        const ds = dx * sx + dy * sy + sz;
        const c = sx * sx + sy * sy + sz * sz - sphere.radius * sphere.radius;
        const discriminant = ds * ds - dd * c;
        if (discriminant < 0) continue;
        const t = (ds - Math.sqrt(discriminant)) / dd;
        if (t > 0 && t < best) {
          best = t;
          nx = (t * dx - sx) / sphere.radius;
          ny = (t * dy - sy) / sphere.radius;
          nz = (t - sz) / sphere.radius;
          [cr, cg, cb] = sphere.color;
          checker = 0;
        }
      }
      const p = y * width + x;
      if (!Number.isFinite(best)) continue;
      depth[p] = best;
      const hx = best * dx;
      const hy = best * dy;
      const hz = best;
      let lvx = lx - hx;
      let lvy = ly - hy;
      let lvz = lz - hz;
      const distance = Math.sqrt(lvx * lvx + lvy * lvy + lvz * lvz);
      lvx /= distance;
      lvy /= distance;
      lvz /= distance;
      const lambert = Math.max(0, nx * lvx + ny * lvy + nz * lvz);
      let shade = 0.25 + (0.9 * lambert) / (1 + 0.04 * distance * distance);
      if (checker > 0 && (Math.floor(hx / checker) + Math.floor(hz / checker)) % 2 !== 0) shade *= 0.7;
      const grain = (noise.next() - 0.5) * 6;
      image[p * 3] = clampByte(cr * shade * 255 + grain);
      image[p * 3 + 1] = clampByte(cg * shade * 255 + grain);
      image[p * 3 + 2] = clampByte(cb * shade * 255 + grain);
    }
  }
  return { image, depth };
}

function clampByte(value: number): number {
  return value <= 0 ? 0 : value >= 255 ? 255 : Math.round(value);
}

/** Options of {@link openSyntheticDepthDataset}. */
export interface SyntheticDepthOptions {
  /** `train`, `test` or `all`. Default `train`. */
  split?: Split;
  /** Suite seed; default 0. */
  seed?: number;
  /** Image height in pixels; default 48 (NYU's 3:4 aspect at 64 wide). */
  height?: number;
  /** Image width in pixels; default 64. */
  width?: number;
  /** Training scenes; default 2 000. */
  trainSize?: number;
  /** Test scenes; default 400. */
  testSize?: number;
}

/**
 * Opens the synthetic depth suite `synthetic-depth`: ray-cast rooms (planes, boxes, spheres) with exact per-pixel
 * depth in metres (0.5–10 m) and an RGB rendering. Deterministic by seed; runs anywhere (no node: imports).
 */
export function openSyntheticDepthDataset(options: SyntheticDepthOptions = {}): DepthDataset {
  const split = options.split ?? "train";
  if (split !== "train" && split !== "test" && split !== "all") {
    throw datasetError(
      "INVALID_ARGUMENT",
      `synthetic-depth: split must be "train", "test" or "all", got ${JSON.stringify(split)}`,
      "split",
    );
  }
  const seed = options.seed ?? 0;
  const height = options.height ?? 48;
  const width = options.width ?? 64;
  checkInteger(height, "height", 2, 4096);
  checkInteger(width, "width", 2, 4096);
  const trainSize = options.trainSize ?? 2_000;
  const testSize = options.testSize ?? 400;
  checkInteger(trainSize, "trainSize", 0);
  checkInteger(testSize, "testSize", 0);
  const size = split === "train" ? trainSize : split === "test" ? testSize : trainSize + testSize;
  return {
    task: "depth",
    name: "synthetic-depth",
    split,
    size,
    imageShape: [height, width, 3],
    depthShape: [height, width],
    get(index: number): DepthSample {
      checkIndex(index, size, "synthetic-depth");
      const part = split === "test" || (split === "all" && index >= trainSize) ? "test" : "train";
      const local = part === "test" && split === "all" ? index - trainSize : index;
      const itemSeed = hashSeed(seed, "synthetic-depth", part, local);
      return renderDepthScene(sampleDepthScene(itemSeed), height, width, itemSeed ^ 0x5bd1e995);
    },
  };
}
