import { describe, expect, it } from "vitest";
import { codeOf } from "../../test/helpers";
import type { Matrix } from "../matrix";
import { type DepthMetrics, depthMetrics } from "./depth-metrics";

const image = (rows: number, cols: number, data: number[] | Float32Array): Matrix => ({ rows, cols, data });

// Valid pixels: gt [1, 2, 4] vs pred [1, 2.5, 2]; the 4th pixel has gt 0 (invalid, ignored).
const gt1 = image(2, 2, [1, 2, 4, 0]);
const pred1 = image(2, 2, [1, 2.5, 2, 5]);
const e = [0, Math.log(1.25), Math.log(0.5)]; // ln pred − ln gt
const expected1 = {
  rmse: Math.sqrt((0 + 0.25 + 4) / 3),
  absRel: (0 + 0.25 + 0.5) / 3,
  sqRel: (0 + 0.125 + 1) / 3,
  rmseLog: Math.sqrt((e[1]! ** 2 + e[2]! ** 2) / 3),
  log10: (Math.log10(1.25) + Math.log10(2)) / 3,
  delta1: 1 / 3, // the ratio 1.25 is not < 1.25 (strict)
  delta2: 2 / 3,
  delta3: 2 / 3, // the ratio 2 is not < 1.953125
  silog: 100 * Math.sqrt((e[1]! ** 2 + e[2]! ** 2) / 3 - ((e[1]! + e[2]!) / 3) ** 2),
};

function expectMetrics(actual: DepthMetrics, expected: Record<string, number>): void {
  for (const [key, value] of Object.entries(expected))
    expect(actual[key as keyof DepthMetrics], key).toBeCloseTo(value, 12);
}

describe("depthMetrics", () => {
  it("hand-computed values on one image, strict delta thresholds, invalid gt ignored", () => {
    const m = depthMetrics(pred1, gt1);
    expectMetrics(m, expected1);
    expect(m.images).toBe(1);
  });

  it("averages per image (not pooled over pixels)", () => {
    const perfect = image(1, 1, [2]);
    const m = depthMetrics([pred1, perfect], [gt1, perfect]);
    expect(m.images).toBe(2);
    const halves = Object.fromEntries(
      Object.entries(expected1).map(([k, v]) => [k, k.startsWith("delta") ? (v + 1) / 2 : v / 2]),
    );
    expectMetrics(m, halves);
  });

  it("valid mask is the open interval (minDepth, maxDepth)", () => {
    const gt = image(1, 4, [1e-3, 10, 5, Number.NaN]);
    const pred = image(1, 4, [7, 7, 5, 7]);
    expectMetrics(depthMetrics(pred, gt), { rmse: 0, absRel: 0, delta1: 1 });
    expect(depthMetrics(pred, gt, { maxDepth: 10.5 }).rmse).toBeCloseTo(Math.sqrt(9 / 2), 12);
  });

  it("median scaling makes a prediction off by a constant factor perfect", () => {
    const gt = image(1, 3, [1, 2, 4]);
    const pred = image(1, 3, [2, 4, 8]);
    expect(depthMetrics(pred, gt).absRel).toBeCloseTo(1, 12);
    expectMetrics(depthMetrics(pred, gt, { medianScaling: true }), {
      rmse: 0,
      absRel: 0,
      silog: 0,
      delta1: 1,
    });
    // silog is scale invariant even without median scaling
    expect(depthMetrics(pred, gt).silog).toBeCloseTo(0, 10);
  });

  it("clamps predictions to [minDepth, maxDepth] unless told not to", () => {
    const gt = image(1, 1, [5]);
    const pred = image(1, 1, [20]);
    expect(depthMetrics(pred, gt).absRel).toBeCloseTo(1, 12);
    expect(depthMetrics(pred, gt, { clampPrediction: false }).absRel).toBeCloseTo(3, 12);
    expect(depthMetrics(image(1, 1, [-1]), gt).absRel).toBeCloseTo((5 - 1e-3) / 5, 12);
    expect(codeOf(() => depthMetrics(image(1, 1, [0]), gt, { clampPrediction: false }))).toBe(
      "NON_POSITIVE_DEPTH",
    );
  });

  it("Eigen crop keeps rows 45–470 and columns 41–600 inclusive of a 480 × 640 image", () => {
    const rows = 480;
    const cols = 640;
    const gt = new Float32Array(rows * cols).fill(2);
    const base = new Float32Array(rows * cols).fill(2);
    const withError = (r: number, c: number): Matrix => {
      const p = Float32Array.from(base);
      p[r * cols + c] = 4;
      return image(rows, cols, p);
    };
    const G = image(rows, cols, gt);
    const inside = (426 * 560) as number;
    for (const [r, c] of [
      [45, 41],
      [470, 600],
      [45, 600],
      [470, 41],
    ] as const) {
      expect(depthMetrics(withError(r, c), G, { crop: "eigen" }).absRel).toBeCloseTo(1 / inside, 15);
    }
    for (const [r, c] of [
      [44, 300],
      [471, 300],
      [200, 40],
      [200, 601],
    ] as const) {
      expect(depthMetrics(withError(r, c), G, { crop: "eigen" }).absRel).toBe(0);
      expect(depthMetrics(withError(r, c), G).absRel).toBeCloseTo(1 / (rows * cols), 15);
    }
    expect(
      codeOf(() => depthMetrics(image(2, 2, [1, 1, 1, 1]), image(2, 2, [1, 1, 1, 1]), { crop: "eigen" })),
    ).toBe("SHAPE_MISMATCH");
    const box = { top: 0, bottom: 1, left: 1, right: 2 };
    expect(depthMetrics(pred1, gt1, { crop: box }).absRel).toBeCloseTo(0.25, 12);
    expect(codeOf(() => depthMetrics(pred1, gt1, { crop: { ...box, right: 3 } }))).toBe("INVALID_ARGUMENT");
  });

  it("error codes", () => {
    expect(codeOf(() => depthMetrics(image(1, 2, [1, 1]), image(2, 1, [1, 1])))).toBe("SHAPE_MISMATCH");
    expect(codeOf(() => depthMetrics([pred1], [gt1, gt1]))).toBe("SHAPE_MISMATCH");
    expect(codeOf(() => depthMetrics(image(2, 2, [1, 1, 1]), gt1))).toBe("SHAPE_MISMATCH");
    expect(codeOf(() => depthMetrics([], []))).toBe("TOO_FEW_EXAMPLES");
    expect(codeOf(() => depthMetrics(pred1, image(2, 2, [0, 0, 20, Number.NaN])))).toBe("NO_VALID_PIXELS");
    expect(codeOf(() => depthMetrics(image(2, 2, [1, Number.NaN, 1, 1]), gt1))).toBe("NON_FINITE");
    expect(codeOf(() => depthMetrics(pred1, gt1, { minDepth: 5, maxDepth: 1 }))).toBe("INVALID_ARGUMENT");
  });
});
