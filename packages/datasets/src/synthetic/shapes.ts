/**
 * The ten procedural shapes of the synthetic suites, in class order. Each is a signed distance (negative inside)
 * in shape-local units; every shape fits inside the unit disc.
 */
export const SYNTHETIC_SHAPES = [
  "circle",
  "square",
  "triangle",
  "diamond",
  "ring",
  "cross",
  "star",
  "hexagon",
  "crescent",
  "ellipse",
] as const;

/** The ten procedural textures of the synthetic suites, in class order (class = shape × 10 + texture). */
export const SYNTHETIC_TEXTURES = [
  "solid",
  "hstripes",
  "vstripes",
  "diagonal",
  "checker",
  "dots",
  "grid",
  "radial",
  "rings",
  "blocks",
] as const;

/** A shape name. */
export type SyntheticShape = (typeof SYNTHETIC_SHAPES)[number];
/** A texture name. */
export type SyntheticTexture = (typeof SYNTHETIC_TEXTURES)[number];

/** @internal Signed distance of shape `shape` at local point (u, v). */
export function shapeDistance(shape: number, u: number, v: number): number {
  const au = Math.abs(u);
  const av = Math.abs(v);
  switch (shape) {
    case 0:
      return Math.sqrt(u * u + v * v) - 0.9;
    case 1:
      return Math.max(au, av) - 0.72;
    case 2: {
      // Equilateral triangle pointing up (v grows downward in image space, so "up" is -v).
      const vv = v - 0.15;
      return Math.max(au * 0.866 - vv * 0.5, vv) - 0.5;
    }
    case 3:
      return (au + av) * Math.SQRT1_2 - 0.64;
    case 4:
      return Math.abs(Math.sqrt(u * u + v * v) - 0.66) - 0.26;
    case 5:
      return Math.min(Math.max(au - 0.88, av - 0.3), Math.max(au - 0.3, av - 0.88));
    case 6: {
      const r = Math.sqrt(u * u + v * v);
      const angle = Math.atan2(v, u);
      return (r - (0.62 + 0.3 * Math.cos(5 * angle + Math.PI / 2))) * 0.6;
    }
    case 7:
      return Math.max(au * 0.866 + av * 0.5, av) - 0.78;
    case 8: {
      const outer = Math.sqrt(u * u + v * v) - 0.9;
      const du = u - 0.42;
      const inner = Math.sqrt(du * du + v * v) - 0.68;
      return Math.max(outer, -inner);
    }
    default: {
      const k = Math.sqrt((u / 0.95) * (u / 0.95) + (v / 0.5) * (v / 0.5));
      return (k - 1) * 0.5;
    }
  }
}

/** @internal Texture mix factor in [0, 1] of texture `texture` at local point (u, v) with frequency `f`. */
export function textureValue(texture: number, u: number, v: number, f: number, phase: number): number {
  switch (texture) {
    case 0:
      return 0;
    case 1:
      return Math.sin(f * Math.PI * v + phase) > 0 ? 1 : 0;
    case 2:
      return Math.sin(f * Math.PI * u + phase) > 0 ? 1 : 0;
    case 3:
      return Math.sin(f * Math.PI * (u + v) * Math.SQRT1_2 + phase) > 0 ? 1 : 0;
    case 4:
      return Math.sin(f * Math.PI * u + phase) * Math.sin(f * Math.PI * v + phase) > 0 ? 1 : 0;
    case 5: {
      const gu = u * f * 0.5 + phase;
      const gv = v * f * 0.5 + phase;
      const fu = gu - Math.floor(gu) - 0.5;
      const fv = gv - Math.floor(gv) - 0.5;
      return fu * fu + fv * fv < 0.09 ? 1 : 0;
    }
    case 6: {
      const gu = u * f * 0.5 + phase;
      const gv = v * f * 0.5 + phase;
      const fu = Math.abs(gu - Math.floor(gu) - 0.5);
      const fv = Math.abs(gv - Math.floor(gv) - 0.5);
      return fu > 0.34 || fv > 0.34 ? 1 : 0;
    }
    case 7:
      return Math.min(1, Math.sqrt(u * u + v * v));
    case 8:
      return Math.sin(f * Math.PI * 1.5 * Math.sqrt(u * u + v * v) + phase) > 0 ? 1 : 0;
    default: {
      const cu = Math.floor(u * f * 0.75 + phase + 8);
      const cv = Math.floor(v * f * 0.75 + phase + 8);
      let h = Math.imul(cu * 374761393 + cv * 668265263, 1274126177);
      h ^= h >>> 13;
      h = Math.imul(h, 1103515245);
      return (h >>> 16) & 1;
    }
  }
}
