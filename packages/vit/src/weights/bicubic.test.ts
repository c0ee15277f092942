import { describe, expect, it } from "vitest";
import { resamplePositionEmbeddings, resizeBicubic } from "./bicubic";

/** 1-D resize through the 2-D routine (a 1×n grid, one channel). */
function resize1d(values: number[], outSize: number, alignCorners = false): number[] {
  return Array.from(
    resizeBicubic(Float64Array.from(values), [1, values.length, 1], 1, outSize, { alignCorners }),
  );
}

describe("resizeBicubic (PyTorch F.interpolate bicubic, A = -0.75)", () => {
  it("matches a hand-computed 2× upsampling of [1, 2, 4, 8]", () => {
    // PyTorch: src = (o + 0.5)·(4/8) − 0.5. o = 0 → src = −0.25, floor −1, t = 0.75; taps −2, −1, 0, 1 clamp to
    // 0, 0, 0, 1. Weights for t = 0.75 with A = −0.75:
    //   w0 = f2(1.75) = ((A·1.75 − 5A)·1.75 + 8A)·1.75 − 4A = −0.03515625
    //   w1 = f1(0.75) = ((A+2)·0.75 − (A+3))·0.75² + 1  =  0.26171875
    //   w2 = f1(0.25)                                   =  0.87890625
    //   w3 = f2(1.25)                                   = −0.10546875
    // out[0] = (w0 + w1 + w2)·1 + w3·2 = 0.89453125.
    // o = 3 → src = 1.25, floor 1, t = 0.25; taps 0, 1, 2, 3 → values 1, 2, 4, 8, weights w3, w2, w1, w0 reversed:
    //   f2(1.25)·1 + f1(0.25)·2 + f1(0.75)·4 + f2(1.75)·8 = −0.10546875 + 1.7578125 + 1.046875 − 0.28125 = 2.41796875
    // o = 7 → src = 3.25, floor 3, t = 0.25; taps 2, 3, 4, 5 clamp to 2, 3, 3, 3:
    //   −0.10546875·4 + (0.87890625 + 0.26171875 − 0.03515625)·8 = −0.421875 + 8.84375 = 8.421875
    const out = resize1d([1, 2, 4, 8], 8);
    expect(out[0]).toBeCloseTo(0.89453125, 12);
    expect(out[3]).toBeCloseTo(2.41796875, 12);
    expect(out[7]).toBeCloseTo(8.421875, 12);
  });

  it("is the identity at the same size, keeps constants, and commutes with mirroring", () => {
    expect(resize1d([3, -1, 4, 1, 5], 5)).toEqual([3, -1, 4, 1, 5]);
    // The four weights sum to 1 for every t (A = −0.75 does not reproduce linear ramps, only constants).
    for (const value of resize1d(new Array(7).fill(2.5), 17)) expect(value).toBeCloseTo(2.5, 12);
    const values = [0.3, -2, 5, 1, 1.5, -0.25];
    const forward = resize1d(values, 13);
    const mirrored = resize1d([...values].reverse(), 13).reverse();
    for (let i = 0; i < 13; i++) expect(forward[i]).toBeCloseTo(mirrored[i] as number, 6);
  });

  it("align_corners = true keeps the corner samples", () => {
    const out = resize1d([1, 2, 4, 8], 7, true);
    expect(out[0]).toBeCloseTo(1, 12);
    expect(out[6]).toBeCloseTo(8, 12);
    expect(out[2]).toBeCloseTo(2, 12); // src = 1 exactly
  });

  it("is separable: resizing an outer product u·vᵀ gives the outer product of the 1-D resizes", () => {
    const u = [0.5, -1, 2, 0.25, 3];
    const v = [1, 4, -2, 0];
    const grid = new Float64Array(u.length * v.length * 2);
    u.forEach((a, i) => {
      v.forEach((b, j) => {
        grid[(i * v.length + j) * 2] = a * b;
        grid[(i * v.length + j) * 2 + 1] = -2 * a * b;
      });
    });
    const out = resizeBicubic(grid, [u.length, v.length, 2], 8, 7);
    const ru = resize1d(u, 8);
    const rv = resize1d(v, 7);
    for (let i = 0; i < 8; i++) {
      for (let j = 0; j < 7; j++) {
        const expected = (ru[i] as number) * (rv[j] as number);
        expect(out[(i * 7 + j) * 2]).toBeCloseTo(expected, 5);
        expect(out[(i * 7 + j) * 2 + 1]).toBeCloseTo(-2 * expected, 5);
      }
    }
  });
});

describe("resamplePositionEmbeddings", () => {
  it("keeps the CLS row, resizes the grid per channel, and checks the element count", () => {
    const dim = 3;
    const data = new Float32Array((1 + 4 * 4) * dim).map((_, i) => Math.sin(i));
    const out = resamplePositionEmbeddings(data, { dim, fromGrid: 4, toGrid: 6 });
    expect(out.length).toBe((1 + 36) * dim);
    expect(Array.from(out.subarray(0, dim))).toEqual(Array.from(data.subarray(0, dim)));
    const channel1 = Array.from({ length: 16 }, (_, i) => data[dim + i * dim + 1] as number);
    const expected = resizeBicubic(Float64Array.from(channel1), [4, 4, 1], 6, 6);
    for (let i = 0; i < 36; i++) expect(out[dim + i * dim + 1]).toBeCloseTo(expected[i] as number, 6);
    expect(Array.from(resamplePositionEmbeddings(data, { dim, fromGrid: [4, 4], toGrid: 4 }))).toEqual(
      Array.from(data),
    );
    expect(() => resamplePositionEmbeddings(data, { dim, fromGrid: 5, toGrid: 6 })).toThrow(/SHAPE|need/);
  });
});
