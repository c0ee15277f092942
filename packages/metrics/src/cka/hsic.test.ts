import { describe, expect, it } from "vitest";
import { codeOf, gaussian, relativeError } from "../../test/helpers";
import type { Matrix } from "../matrix";
import { hsic } from "./hsic";

function kernel(n: number, d: number, seed: number): Float64Array {
  const x = gaussian(n, d, seed);
  const k = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let f = 0; f < d; f++) s += x[i * d + f]! * x[j * d + f]!;
      k[i * n + j] = Math.tanh(s) + 0.5; // any symmetric kernel will do
    }
  return k;
}

/** Song et al. 2012, eq. 5, literally with O(n³) products. */
function songUnbiased(k: Float64Array, l: Float64Array, n: number): number {
  const kt = k.map((v, i) => (i % (n + 1) === 0 ? 0 : v));
  const lt = l.map((v, i) => (i % (n + 1) === 0 ? 0 : v));
  let trace = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) trace += kt[i * n + j]! * lt[j * n + i]!;
  const sum = (m: Float64Array): number => m.reduce((s, v) => s + v, 0);
  let oneKLone = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) for (let q = 0; q < n; q++) oneKLone += kt[i * n + j]! * lt[j * n + q]!;
  return (trace + (sum(kt) * sum(lt)) / ((n - 1) * (n - 2)) - (2 / (n - 2)) * oneKLone) / (n * (n - 3));
}

/** tr(KHLH) / (n − 1)² with explicit H. */
function biased(k: Float64Array, l: Float64Array, n: number): number {
  const h = (i: number, j: number): number => (i === j ? 1 : 0) - 1 / n;
  const hk = new Float64Array(n * n);
  const hl = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++)
      for (let q = 0; q < n; q++) {
        hk[i * n + j]! += h(i, q) * k[q * n + j]!;
        hl[i * n + j]! += h(i, q) * l[q * n + j]!;
      }
  let t = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) t += hk[i * n + j]! * hl[j * n + i]!;
  return t / ((n - 1) * (n - 1));
}

describe("hsic", () => {
  const n = 15;
  const K: Matrix = { rows: n, cols: n, data: kernel(n, 3, 1) };
  const L: Matrix = { rows: n, cols: n, data: kernel(n, 2, 2) };

  it("biased HSIC₀ equals tr(KHLH)/(n−1)²", () => {
    expect(relativeError(hsic(K, L), biased(K.data as Float64Array, L.data as Float64Array, n))).toBeLessThan(
      1e-12,
    );
  });

  it("unbiased HSIC₁ equals Song et al.'s formula", () => {
    const ref = songUnbiased(K.data as Float64Array, L.data as Float64Array, n);
    expect(relativeError(hsic(K, L, { unbiased: true }), ref)).toBeLessThan(1e-11);
    expect(Math.abs(ref - biased(K.data as Float64Array, L.data as Float64Array, n))).toBeGreaterThan(1e-6);
  });

  it("unbiased HSIC₁ ignores the kernels' diagonals; biased does not", () => {
    const bumped = Float64Array.from(K.data);
    for (let i = 0; i < n; i++) bumped[i * n + i]! += 3;
    const B: Matrix = { rows: n, cols: n, data: bumped };
    expect(hsic(B, L, { unbiased: true })).toBeCloseTo(hsic(K, L, { unbiased: true }), 12);
    expect(Math.abs(hsic(B, L) - hsic(K, L))).toBeGreaterThan(1e-6);
  });

  it("error codes", () => {
    expect(codeOf(() => hsic({ rows: 2, cols: 3, data: new Float64Array(6) }, L))).toBe("SHAPE_MISMATCH");
    expect(codeOf(() => hsic(K, { rows: 4, cols: 4, data: new Float64Array(16) }))).toBe("SHAPE_MISMATCH");
    const asym = Float64Array.from(K.data);
    asym[1] = asym[1]! + 0.1;
    expect(codeOf(() => hsic({ rows: n, cols: n, data: asym }, L))).toBe("INVALID_ARGUMENT");
    const three: Matrix = { rows: 3, cols: 3, data: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
    expect(hsic(three, three)).toBeCloseTo(0.5, 12);
    expect(codeOf(() => hsic(three, three, { unbiased: true }))).toBe("TOO_FEW_EXAMPLES");
    const nan = Float64Array.from(K.data);
    nan[0] = Number.NaN;
    expect(codeOf(() => hsic({ rows: n, cols: n, data: nan }, L))).toBe("NON_FINITE");
  });
});
