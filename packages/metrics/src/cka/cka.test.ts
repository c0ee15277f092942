import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  codeOf,
  fixturePath,
  gaussian,
  matmul,
  randomOrthogonal,
  readF32Safetensors,
  referenceCKA,
  relativeError,
} from "../../test/helpers";
import type { Matrix } from "../matrix";
import { ckaMatrix } from "./cka-matrix";
import { linearCKA, rbfCKA } from "./linear-cka";
import { MinibatchCKA } from "./minibatch-cka";

const tensors = readF32Safetensors(fixturePath("cka", "basic.safetensors"));
const expected = JSON.parse(readFileSync(fixturePath("cka", "basic.expected.json"), "utf8")) as Record<
  string,
  number
>;
const x: Matrix = { rows: 100, cols: 10, data: tensors["x"]!.data };
const y: Matrix = { rows: 100, cols: 10, data: tensors["y"]!.data };

/** Pads a matrix with zero columns (CKA is unchanged; it moves n ≤ Σd, i.e. onto the Gram-form path). */
function padColumns(m: Matrix, extra: number): Matrix {
  const cols = m.cols + extra;
  const data = new Float64Array(m.rows * cols);
  for (let r = 0; r < m.rows; r++)
    for (let c = 0; c < m.cols; c++) data[r * cols + c] = m.data[r * m.cols + c]!;
  return { rows: m.rows, cols, data };
}

const golden = (value: number, key: string): void => {
  expect(Math.abs(value - expected[key]!)).toBeLessThan(1e-9);
};

describe("golden values (google-research float64 reference, basic.*)", () => {
  it("fixture has the expected shape", () => {
    expect(tensors["x"]!.shape).toEqual([100, 10]);
    expect(tensors["y"]!.shape).toEqual([100, 10]);
    expect(expected["minibatch_batches"]).toBe(5);
  });

  it("linear CKA, feature-space and Gram-form paths", () => {
    golden(linearCKA(x, y), "linear");
    golden(linearCKA(padColumns(x, 60), padColumns(y, 60)), "linear");
  });

  it("debiased linear CKA, both paths", () => {
    golden(linearCKA(x, y, { debiased: true }), "linear_debiased");
    golden(linearCKA(padColumns(x, 60), padColumns(y, 60), { debiased: true }), "linear_debiased");
  });

  it("RBF CKA with threshold 0.5 and 1.0, and debiased 0.5", () => {
    golden(rbfCKA(x, y, { threshold: 0.5 }), "rbf_0.5");
    golden(rbfCKA(x, y), "rbf_1.0");
    golden(rbfCKA(x, y, { threshold: 1.0 }), "rbf_1.0");
    golden(rbfCKA(x, y, { threshold: 0.5, debiased: true }), "rbf_0.5_debiased");
  });

  it("minibatch linear CKA over 5 batches of 20", () => {
    const grid = new MinibatchCKA();
    for (let b = 0; b < 5; b++) {
      const slice = (m: Matrix): Matrix => ({
        rows: 20,
        cols: 10,
        data: m.data.slice(b * 200, (b + 1) * 200),
      });
      grid.update([slice(x)], [slice(y)]);
    }
    expect(grid.batches).toBe(5);
    const result = grid.result();
    expect(result).toHaveLength(1);
    golden(result[0]![0]!, "minibatch_linear_b20");
  });

  it("ckaMatrix reproduces the pairwise values", () => {
    const m = ckaMatrix([x], [y]);
    golden(m[0]![0]!, "linear");
    golden(
      ckaMatrix([x], [y], { kernel: "rbf", threshold: 0.5, debiased: true })[0]![0]!,
      "rbf_0.5_debiased",
    );
  });
});

describe("agreement with a naive definition-level reference", () => {
  it("linear CKA on the Gram path (n < d) and feature path (n > d)", () => {
    for (const [n, dx, dy, seed] of [
      [30, 40, 25, 1],
      [60, 7, 5, 2],
    ] as const) {
      const a = gaussian(n, dx, seed);
      const b = matmul(a, gaussian(dx, dy, seed + 10), n, dx, dy);
      for (let i = 0; i < b.length; i++) b[i]! += gaussian(1, 1, seed * 1000 + i)[0]!;
      const ref = referenceCKA(a, b, n, dx, dy);
      expect(
        relativeError(linearCKA({ rows: n, cols: dx, data: a }, { rows: n, cols: dy, data: b }), ref),
      ).toBeLessThan(1e-12);
    }
  });

  it("RBF CKA with several thresholds", () => {
    const n = 24;
    const a = gaussian(n, 6, 3);
    const b = gaussian(n, 4, 4);
    for (const t of [0.3, 1, 2.5]) {
      const ref = referenceCKA(a, b, n, 6, 4, "rbf", t);
      expect(
        relativeError(
          rbfCKA({ rows: n, cols: 6, data: a }, { rows: n, cols: 4, data: b }, { threshold: t }),
          ref,
        ),
      ).toBeLessThan(1e-12);
    }
  });

  it("accepts number[][] and Float32Array/Float64Array/number[] data alike", () => {
    const rows = Array.from({ length: 100 }, (_, r) => Array.from(x.data.slice(r * 10, r * 10 + 10)));
    const value = linearCKA(rows, { rows: 100, cols: 10, data: Array.from(y.data) });
    golden(value, "linear");
  });
});

describe("invariances", () => {
  const n = 80;
  const d = 12;
  const a = gaussian(n, d, 11);
  const b = gaussian(n, 9, 12);
  for (let i = 0; i < n; i++) for (let f = 0; f < 9; f++) b[i * 9 + f]! += 0.8 * a[i * d + f]!;
  const A: Matrix = { rows: n, cols: d, data: a };
  const B: Matrix = { rows: n, cols: 9, data: b };
  const q = randomOrthogonal(d, 13);
  const rotated: Matrix = { rows: n, cols: d, data: matmul(a, q, n, d, d) };
  const scaled: Matrix = { rows: n, cols: d, data: a.map((v) => 37.5 * v) };
  const shifted: Matrix = { rows: n, cols: d, data: a.map((v, i) => v + 5 * (i % d) - 20) };
  const measures: [string, (p: Matrix, r: Matrix) => number][] = [
    ["linear", (p, r) => linearCKA(p, r)],
    ["linear debiased", (p, r) => linearCKA(p, r, { debiased: true })],
    ["rbf", (p, r) => rbfCKA(p, r, { threshold: 0.8 })],
    ["rbf debiased", (p, r) => rbfCKA(p, r, { debiased: true })],
  ];
  for (const [name, measure] of measures) {
    it(`${name}: orthogonal transform, isotropic scaling and translation leave CKA unchanged`, () => {
      const base = measure(A, B);
      expect(base).toBeGreaterThan(0.1);
      expect(relativeError(measure(rotated, B), base)).toBeLessThan(1e-10);
      expect(relativeError(measure(scaled, B), base)).toBeLessThan(1e-10);
      expect(relativeError(measure(shifted, B), base)).toBeLessThan(1e-10);
    });
    it(`${name}: CKA(X, X) = 1 and symmetric`, () => {
      expect(measure(A, A)).toBeCloseTo(1, 12);
      expect(measure(B, A)).toBeCloseTo(measure(A, B), 12);
    });
  }

  it("is not invariant to a general invertible linear map (so the invariance tests can fail)", () => {
    const stretch: Matrix = { rows: n, cols: d, data: a.map((v, i) => (i % d === 0 ? 10 * v : v)) };
    expect(Math.abs(linearCKA(stretch, B) - linearCKA(A, B))).toBeGreaterThan(1e-3);
  });
});

describe("precision with large offsets", () => {
  it("float32 features of mean 1e3 match the float64 reference to 1e-9 relative", () => {
    const n = 500;
    const d = 16;
    const base = gaussian(n, d, 21);
    const other = gaussian(n, d, 22);
    for (let i = 0; i < other.length; i++) other[i]! += 0.5 * base[i]!;
    const big = (m: Float64Array): Float32Array => Float32Array.from(m, (v) => 1000 + v);
    const X32 = big(base);
    const Y32 = big(other);
    // Subtracting 1000 from a float32 value near 1000 is exact in float64, and CKA is translation invariant,
    // so the same data without the offset is an exact reference.
    const X64 = Float64Array.from(X32, (v) => v - 1000);
    const Y64 = Float64Array.from(Y32, (v) => v - 1000);
    const m = (data: Float32Array | Float64Array): Matrix => ({ rows: n, cols: d, data });
    for (const debiased of [false, true]) {
      const ref = linearCKA(m(X64), m(Y64), { debiased });
      expect(relativeError(linearCKA(m(X32), m(Y32), { debiased }), ref)).toBeLessThan(1e-9);
    }
    const refRbf = rbfCKA(m(X64), m(Y64));
    expect(relativeError(rbfCKA(m(X32), m(Y32)), refRbf)).toBeLessThan(1e-9);
    const grid = new MinibatchCKA();
    const gridRef = new MinibatchCKA();
    for (let b = 0; b < 5; b++) {
      const part = (data: Float32Array | Float64Array): Matrix => ({
        rows: 100,
        cols: d,
        data: data.slice(b * 100 * d, (b + 1) * 100 * d),
      });
      grid.update([part(X32)], [part(Y32)]);
      gridRef.update([part(X64)], [part(Y64)]);
    }
    expect(relativeError(grid.result()[0]![0]!, gridRef.result()[0]![0]!)).toBeLessThan(1e-9);
  });
});

describe("ckaMatrix", () => {
  const n = 40;
  const layers: Matrix[] = [5, 8, 3, 6].map((d, i) => ({ rows: n, cols: d, data: gaussian(n, d, 100 + i) }));
  layers[1] = {
    rows: n,
    cols: 8,
    data: layers[1]!.data.map(
      (v, i) => v + (i % 8 < 5 ? 2 * layers[0]!.data[Math.floor(i / 8) * 5 + (i % 8)]! : 0),
    ),
  };

  for (const opts of [
    {},
    { debiased: true },
    { kernel: "rbf" as const },
    { kernel: "rbf" as const, debiased: true },
  ]) {
    it(`symmetric input gives a symmetric matrix with unit diagonal ${JSON.stringify(opts)}`, () => {
      const m = ckaMatrix(layers, undefined, opts);
      expect(m).toHaveLength(4);
      for (let i = 0; i < 4; i++) {
        expect(m[i]![i]).toBe(1);
        for (let j = 0; j < 4; j++) {
          expect(m[i]![j]).toBe(m[j]![i]);
          if (i !== j) {
            const single =
              opts.kernel === "rbf"
                ? rbfCKA(layers[i]!, layers[j]!, opts)
                : linearCKA(layers[i]!, layers[j]!, opts);
            expect(m[i]![j]).toBeCloseTo(single, 12);
          }
        }
      }
      expect(ckaMatrix(layers, layers, opts)).toEqual(m);
    });
  }

  it("rectangular A × B matrices match pairwise CKA, on both the Gram and feature paths", () => {
    const wide: Matrix[] = [60, 50].map((d, i) => ({ rows: n, cols: d, data: gaussian(n, d, 200 + i) }));
    const m = ckaMatrix(layers, wide);
    expect(m).toHaveLength(4);
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < 2; j++) expect(m[i]![j]).toBeCloseTo(linearCKA(layers[i]!, wide[j]!), 12);
    const tall: Matrix[] = [3, 2].map((d, i) => ({ rows: 400, cols: d, data: gaussian(400, d, 300 + i) }));
    const t = ckaMatrix(tall, tall.slice().reverse(), { debiased: true });
    expect(t[0]![1]).toBeCloseTo(1, 12);
    expect(t[0]![0]).toBeCloseTo(linearCKA(tall[0]!, tall[1]!, { debiased: true }), 12);
  });
});

describe("MinibatchCKA", () => {
  const batch = (seed: number, rows = 16): Matrix[] =>
    [4, 6, 5].map((d, i) => ({ rows, cols: d, data: gaussian(rows, d, seed * 10 + i) }));

  it("symmetric grid has unit diagonal and is symmetric; equals full-batch debiased CKA for one batch", () => {
    const grid = new MinibatchCKA();
    const one = batch(1);
    grid.update(one);
    const m = grid.result();
    for (let i = 0; i < 3; i++) {
      expect(m[i]![i]).toBe(1);
      for (let j = 0; j < 3; j++) {
        expect(m[i]![j]).toBe(m[j]![i]);
        if (i !== j) expect(m[i]![j]).toBeCloseTo(linearCKA(one[i]!, one[j]!, { debiased: true }), 12);
      }
    }
  });

  it("rejects an unequal batch by default and drops it with unequalBatch: 'drop'", () => {
    const strict = new MinibatchCKA();
    strict.update(batch(1), batch(2));
    expect(codeOf(() => strict.update(batch(3, 12), batch(4, 12)))).toBe("UNEQUAL_BATCH");
    expect(strict.batches).toBe(1);

    const lenient = new MinibatchCKA({ unequalBatch: "drop" });
    const reference = new MinibatchCKA();
    lenient.update(batch(1), batch(2));
    reference.update(batch(1), batch(2));
    lenient.update(batch(3, 12), batch(4, 12));
    expect(lenient.batches).toBe(1);
    expect(lenient.droppedBatches).toBe(1);
    expect(lenient.result()).toEqual(reference.result());
  });

  it("reports degenerate input with codes", () => {
    expect(codeOf(() => new MinibatchCKA().result())).toBe("TOO_FEW_EXAMPLES");
    expect(codeOf(() => new MinibatchCKA().update(batch(1, 3)))).toBe("TOO_FEW_EXAMPLES");
    const g = new MinibatchCKA();
    g.update(batch(1));
    expect(codeOf(() => g.update(batch(2).slice(0, 2)))).toBe("SHAPE_MISMATCH");
    const mixed = batch(5);
    mixed[1] = { rows: 10, cols: 6, data: gaussian(10, 6, 9) };
    expect(codeOf(() => new MinibatchCKA().update(mixed))).toBe("SHAPE_MISMATCH");
    const constant = new MinibatchCKA();
    constant.update([{ rows: 8, cols: 2, data: new Float64Array(16).fill(3) }], batch(6, 8));
    expect(codeOf(() => constant.result())).toBe("CONSTANT_FEATURES");
    expect(codeOf(() => new MinibatchCKA({ unequalBatch: "mix" as "drop" }))).toBe("INVALID_ARGUMENT");
    const nan = batch(7);
    (nan[0]!.data as Float64Array)[3] = Number.NaN;
    expect(codeOf(() => new MinibatchCKA().update(nan))).toBe("NON_FINITE");
  });
});

describe("degenerate input → KoraError codes", () => {
  const A: Matrix = { rows: 10, cols: 3, data: gaussian(10, 3, 31) };
  const B: Matrix = { rows: 10, cols: 2, data: gaussian(10, 2, 32) };
  const constant: Matrix = { rows: 10, cols: 3, data: new Float64Array(30).fill(0.1) };
  it("CONSTANT_FEATURES for a constant representation (every estimator and path)", () => {
    expect(codeOf(() => linearCKA(constant, B))).toBe("CONSTANT_FEATURES");
    expect(codeOf(() => linearCKA(B, padColumns(constant, 20)))).toBe("CONSTANT_FEATURES");
    expect(codeOf(() => linearCKA(constant, B, { debiased: true }))).toBe("CONSTANT_FEATURES");
    expect(codeOf(() => rbfCKA(constant, B))).toBe("CONSTANT_FEATURES");
    expect(codeOf(() => ckaMatrix([A, constant]))).toBe("CONSTANT_FEATURES");
  });
  it("ZERO_MEDIAN_DISTANCE when most examples coincide", () => {
    const mostlySame: Matrix = { rows: 10, cols: 1, data: [0, 0, 0, 0, 0, 0, 0, 0, 1, 2] };
    expect(codeOf(() => rbfCKA(mostlySame, B))).toBe("ZERO_MEDIAN_DISTANCE");
  });
  it("TOO_FEW_EXAMPLES below the estimator minimum", () => {
    const one: Matrix = { rows: 1, cols: 3, data: [1, 2, 3] };
    expect(codeOf(() => linearCKA(one, one))).toBe("TOO_FEW_EXAMPLES");
    const three: Matrix = { rows: 3, cols: 2, data: [1, 2, 3, 4, 5, 7] };
    expect(linearCKA(three, three)).toBeCloseTo(1, 12);
    expect(codeOf(() => linearCKA(three, three, { debiased: true }))).toBe("TOO_FEW_EXAMPLES");
    expect(codeOf(() => rbfCKA(three, three, { debiased: true }))).toBe("TOO_FEW_EXAMPLES");
  });
  it("NON_FINITE for NaN and Infinity", () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const data = Float32Array.from(A.data);
      data[7] = bad;
      expect(codeOf(() => linearCKA({ rows: 10, cols: 3, data }, B))).toBe("NON_FINITE");
      expect(codeOf(() => rbfCKA(B, { rows: 10, cols: 3, data }))).toBe("NON_FINITE");
    }
  });
  it("SHAPE_MISMATCH for different row counts, wrong data length and ragged rows", () => {
    expect(codeOf(() => linearCKA(A, { rows: 9, cols: 2, data: new Float64Array(18) }))).toBe(
      "SHAPE_MISMATCH",
    );
    expect(codeOf(() => linearCKA({ rows: 10, cols: 3, data: new Float64Array(29) }, B))).toBe(
      "SHAPE_MISMATCH",
    );
    expect(codeOf(() => linearCKA([[1, 2], [3]], [[1], [2]]))).toBe("SHAPE_MISMATCH");
    expect(codeOf(() => ckaMatrix([A], [{ rows: 9, cols: 2, data: new Float64Array(18) }]))).toBe(
      "SHAPE_MISMATCH",
    );
  });
  it("INVALID_ARGUMENT for bad options", () => {
    expect(codeOf(() => rbfCKA(A, B, { threshold: 0 }))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => rbfCKA(A, B, { threshold: Number.NaN }))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => ckaMatrix([A], [B], { kernel: "cosine" as "rbf" }))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => ckaMatrix([]))).toBe("INVALID_ARGUMENT");
  });
  it("NON_POSITIVE_ESTIMATE when the debiased self-similarity is not positive", () => {
    // All examples identical but one: the Gram is a_i + a_j off the diagonal, so its unbiased centring is 0
    // (HSIC₁(K, K) = 0) although the representation is not constant. Both paths, and the minibatch grid.
    const oneOdd: Matrix = { rows: 6, cols: 2, data: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 1] };
    const other: Matrix = { rows: 6, cols: 1, data: [1, 2, 4, 8, 3, 5] };
    expect(linearCKA(oneOdd, other)).toBeGreaterThan(0);
    expect(codeOf(() => linearCKA(oneOdd, other, { debiased: true }))).toBe("NON_POSITIVE_ESTIMATE");
    expect(codeOf(() => linearCKA(padColumns(oneOdd, 10), other, { debiased: true }))).toBe(
      "NON_POSITIVE_ESTIMATE",
    );
    expect(codeOf(() => ckaMatrix([oneOdd, other], undefined, { debiased: true }))).toBe(
      "NON_POSITIVE_ESTIMATE",
    );
    const grid = new MinibatchCKA();
    grid.update([oneOdd], [other]);
    expect(codeOf(() => grid.result())).toBe("NON_POSITIVE_ESTIMATE");
  });
});
