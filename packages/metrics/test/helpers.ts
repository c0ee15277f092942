import { readFileSync } from "node:fs";

export { fixturePath } from "../../../fixtures/fixtures";

export interface Tensor {
  shape: number[];
  data: Float32Array;
}

/** Minimal safetensors reader for F32 tensors: 8-byte LE header length, JSON header, raw data. */
export function readF32Safetensors(path: string): Record<string, Tensor> {
  const bytes = readFileSync(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString("utf8")) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const base = 8 + headerLength;
  const out: Record<string, Tensor> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    if (entry.dtype !== "F32") throw new Error(`${name}: only F32 is supported here, got ${entry.dtype}`);
    const [start, end] = entry.data_offsets;
    const data = new Float32Array((end - start) >> 2);
    for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(base + start + 4 * i, true);
    out[name] = { shape: entry.shape, data };
  }
  return out;
}

/** Deterministic uniform generator (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n × d standard-normal matrix as a Float64Array (row-major). */
export function gaussian(n: number, d: number, seed: number): Float64Array {
  const u = rng(seed);
  const out = new Float64Array(n * d);
  for (let i = 0; i < out.length; i++) {
    out[i] = Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  }
  return out;
}

/** Random d × d orthogonal matrix (Gram–Schmidt on Gaussian columns), row-major. */
export function randomOrthogonal(d: number, seed: number): Float64Array {
  const g = gaussian(d, d, seed);
  const q = new Float64Array(d * d);
  for (let c = 0; c < d; c++) {
    for (let r = 0; r < d; r++) q[r * d + c] = g[r * d + c]!;
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < c; k++) {
        let dot = 0;
        for (let r = 0; r < d; r++) dot += q[r * d + c]! * q[r * d + k]!;
        for (let r = 0; r < d; r++) q[r * d + c]! -= dot * q[r * d + k]!;
      }
    }
    let norm = 0;
    for (let r = 0; r < d; r++) norm += q[r * d + c]! ** 2;
    norm = Math.sqrt(norm);
    for (let r = 0; r < d; r++) q[r * d + c]! /= norm;
  }
  return q;
}

/** Plain a (n × k) · b (k × m). */
export function matmul(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  n: number,
  k: number,
  m: number,
): Float64Array {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++)
    for (let p = 0; p < k; p++) {
      const v = a[i * k + p]!;
      for (let j = 0; j < m; j++) out[i * m + j]! += v * b[p * m + j]!;
    }
  return out;
}

/**
 * Naive float64 reference CKA straight from the definitions (explicit n × n matrices, explicit H·K·H products),
 * independent of the library's blocked kernels and centring shortcuts.
 */
export function referenceCKA(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  n: number,
  dx: number,
  dy: number,
  kernel: "linear" | "rbf" = "linear",
  threshold = 1,
): number {
  const gram = (z: ArrayLike<number>, d: number): Float64Array => {
    const k = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let f = 0; f < d; f++) {
          const diff = z[i * d + f]! - z[j * d + f]!;
          s += kernel === "linear" ? z[i * d + f]! * z[j * d + f]! : diff * diff;
        }
        k[i * n + j] = s;
      }
    if (kernel === "rbf") {
      const sorted = Float64Array.from(k).sort();
      const median = (sorted[(n * n) / 2 - 1]! + sorted[(n * n) / 2]!) / 2;
      for (let i = 0; i < k.length; i++) k[i] = Math.exp(-k[i]! / (2 * threshold * threshold * median));
    }
    return k;
  };
  const h = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) h[i * n + j] = (i === j ? 1 : 0) - 1 / n;
  const center = (k: Float64Array): Float64Array => matmul(matmul(h, k, n, n, n), h, n, n, n);
  const kc = center(gram(x, dx));
  const lc = center(gram(y, dy));
  let kl = 0;
  let kk = 0;
  let ll = 0;
  for (let i = 0; i < n * n; i++) {
    kl += kc[i]! * lc[i]!;
    kk += kc[i]! * kc[i]!;
    ll += lc[i]! * lc[i]!;
  }
  return kl / Math.sqrt(kk * ll);
}

/** Relative difference |a − b| / |b|. */
export const relativeError = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

/** Calls fn and returns the KoraError code it throws (or fails). */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string") return code;
    throw error;
  }
  throw new Error("expected a KoraError, nothing was thrown");
}
