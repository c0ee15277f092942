import { describe, expect, it } from "vitest";
import { KoraError } from "../errors";
import { effectiveRank, lowRankSingularValues, singularValues, stableRank } from ".";

/** A seeded uniform generator in [−1, 1) (mulberry32), so the matrices are the same every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

function randomMatrix(rows: number, cols: number, seed: number): number[][] {
  const next = random(seed);
  return Array.from({ length: rows }, () => Array.from({ length: cols }, next));
}

function multiply(a: number[][], b: number[][]): number[][] {
  return a.map((row) =>
    (b[0] as number[]).map((_, j) => row.reduce((s, v, k) => s + v * ((b[k] as number[])[j] as number), 0)),
  );
}

/** An n×n orthogonal matrix: a product of Householder reflections I − 2vvᵀ/vᵀv from seeded vectors. */
function orthogonal(n: number, seed: number): number[][] {
  let q: number[][] = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)),
  );
  const next = random(seed);
  for (let k = 0; k < 3; k++) {
    const v = Array.from({ length: n }, next);
    const vv = v.reduce((s, x) => s + x * x, 0);
    const h = v.map((vi, i) => v.map((vj, j) => (i === j ? 1 : 0) - (2 * vi * vj) / vv));
    q = multiply(q, h);
  }
  return q;
}

const transpose = (m: number[][]) => (m[0] as number[]).map((_, j) => m.map((row) => row[j] as number));

describe("singularValues", () => {
  it("recovers the values a matrix was built from, U·diag(s)·Vᵀ, to 1e-12 (rank-deficient too)", () => {
    for (const s of [
      [5, 3, 1, 0.5, 1e-6],
      [2, 2, 1, 0, 0],
    ]) {
      const u = orthogonal(7, 1);
      const v = orthogonal(5, 2);
      const sigma = Array.from({ length: 7 }, (_, i) =>
        Array.from({ length: 5 }, (_, j) => (i === j ? (s[i] as number) : 0)),
      );
      const m = multiply(multiply(u, sigma), transpose(v));
      const got = singularValues(m);
      expect(got.length).toBe(5);
      for (const [i, value] of got.entries()) expect(Math.abs(value - (s[i] as number))).toBeLessThan(1e-12);
      // The transpose has the same values.
      for (const [i, value] of singularValues(transpose(m)).entries())
        expect(Math.abs(value - (s[i] as number))).toBeLessThan(1e-12);
    }
  });

  it("keeps the Frobenius norm (Σσ² = Σ m²) and returns values largest first", () => {
    const m = randomMatrix(12, 9, 3);
    const values = Array.from(singularValues(m));
    const frobenius = m.flat().reduce((s, x) => s + x * x, 0);
    expect(values.reduce((s, x) => s + x * x, 0)).toBeCloseTo(frobenius, 10);
    expect([...values].sort((a, b) => b - a)).toEqual(values);
  });

  it("takes a { rows, cols, data } matrix and rejects bad input with a code", () => {
    expect(Array.from(singularValues({ rows: 2, cols: 2, data: new Float32Array([3, 0, 0, -4]) }))).toEqual([
      4, 3,
    ]);
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (error) {
        return KoraError.isInstance(error) ? error.code : "untyped";
      }
      return "none";
    };
    expect(code(() => singularValues([[1, Number.NaN]]))).toBe("NON_FINITE");
    expect(code(() => singularValues({ rows: 2, cols: 2, data: [1, 2, 3] }))).toBe("SHAPE_MISMATCH");
    expect(code(() => singularValues([[1]], { maxSweeps: 0 }))).toBe("INVALID_ARGUMENT");
    expect(code(() => lowRankSingularValues(randomMatrix(4, 2, 1), randomMatrix(3, 4, 2)))).toBe(
      "SHAPE_MISMATCH",
    );
    expect(code(() => effectiveRank([1, -1]))).toBe("INVALID_ARGUMENT");
  });
});

describe("lowRankSingularValues", () => {
  it("equals the singular values of the formed product B·A, to 1e-10 relative", () => {
    const b = randomMatrix(20, 3, 4);
    const a = randomMatrix(3, 15, 5);
    const direct = singularValues(multiply(b, a));
    const factored = lowRankSingularValues(b, a);
    expect(factored.length).toBe(3);
    for (const [i, value] of factored.entries())
      expect(Math.abs(value - (direct[i] as number))).toBeLessThan(1e-10 * (direct[0] as number));
    // Beyond rank 3 the product has nothing.
    for (let i = 3; i < direct.length; i++) expect(direct[i] as number).toBeLessThan(1e-12);
  });

  it("gives a zero value for a dependent column of B (a zero LoRA factor gives all zeros)", () => {
    const b = randomMatrix(10, 3, 6).map((row) => [
      row[0] as number,
      row[1] as number,
      2 * (row[0] as number),
    ]);
    const values = lowRankSingularValues(b, randomMatrix(3, 8, 7));
    expect(values[2] as number).toBeLessThan(1e-12);
    expect(values[1] as number).toBeGreaterThan(1e-3);
    const zero = Array.from({ length: 10 }, () => [0, 0, 0]);
    expect(Array.from(lowRankSingularValues(zero, randomMatrix(3, 8, 7)))).toEqual([0, 0, 0]);
  });
});

describe("effectiveRank and stableRank", () => {
  it("are n for n equal values, 1 for one direction, 0 for a zero matrix", () => {
    expect(effectiveRank([2, 2, 2, 2])).toBeCloseTo(4, 12);
    expect(effectiveRank([3, 0, 0])).toBeCloseTo(1, 12);
    expect(effectiveRank([0, 0])).toBe(0);
    expect(stableRank([2, 2, 2, 2])).toBeCloseTo(4, 12);
    expect(stableRank([3, 0, 0])).toBe(1);
    expect(stableRank([])).toBe(0);
    // Between the two: a dominant direction and a weak one.
    expect(effectiveRank([1, 0.1])).toBeGreaterThan(1);
    expect(effectiveRank([1, 0.1])).toBeLessThan(2);
    expect(stableRank([1, 0.1])).toBeCloseTo(1.01, 12);
  });
});
