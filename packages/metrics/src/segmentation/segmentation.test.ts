import { describe, expect, it } from "vitest";
import { codeOf } from "../../test/helpers";
import { segmentationMetrics } from "./segmentation-metrics";

// Worked by hand. Image A is 2 × 3 with its last pixel void (255), image B is 1 × 3; classes 0–3, class 3 nowhere.
// Scored (true, predicted) pairs: A (0,0) (0,1) (1,1) (1,1) (2,2); B (2,2) (2,0) (0,0).
// Confusion rows (true) × columns (predicted): [2 1 0 0] [0 2 0 0] [1 0 2 0] [0 0 0 0].
// IoU = TP / (row + column − TP): class 0 2/(3+3−2) = 1/2, class 1 2/(2+3−2) = 2/3, class 2 2/(3+2−2) = 2/3.
const gtA = Int32Array.from([0, 0, 1, 1, 2, 255]);
const predA = Int32Array.from([0, 1, 1, 1, 2, 0]);
const gtB = Uint8Array.from([2, 2, 0]);
const predB = Uint8Array.from([2, 0, 0]);

describe("segmentationMetrics", () => {
  it("matches the hand computation: mIoU over the classes that occur, pixel and class accuracy", () => {
    const m = segmentationMetrics([predA, predB], [gtA, gtB], { classes: 4 });
    expect(m.pixels).toBe(8);
    expect(m.confusion).toEqual([
      [2, 1, 0, 0],
      [0, 2, 0, 0],
      [1, 0, 2, 0],
      [0, 0, 0, 0],
    ]);
    expect(m.perClassIoU[0]).toBeCloseTo(1 / 2, 14);
    expect(m.perClassIoU[1]).toBeCloseTo(2 / 3, 14);
    expect(m.perClassIoU[2]).toBeCloseTo(2 / 3, 14);
    expect(m.perClassIoU[3]).toBeNull(); // union 0: excluded from the mean, not scored 0 or 1
    expect(m.mIoU).toBeCloseTo((1 / 2 + 2 / 3 + 2 / 3) / 3, 14); // 11/18
    expect(m.pixelAccuracy).toBeCloseTo(6 / 8, 14);
    expect(m.perClassAccuracy).toEqual([2 / 3, 1, 2 / 3, null]);
    expect(m.meanClassAccuracy).toBeCloseTo((2 / 3 + 1 + 2 / 3) / 3, 14); // 7/9
  });

  it("counts a class that is only predicted as IoU 0, and leaves it out of the class accuracy", () => {
    const m = segmentationMetrics([0, 3], [0, 0], { classes: 4 });
    expect(m.perClassIoU).toEqual([1 / 2, null, null, 0]);
    expect(m.mIoU).toBeCloseTo(1 / 4, 14);
    expect(m.meanClassAccuracy).toBeCloseTo(1 / 2, 14);
    expect(m.pixelAccuracy).toBeCloseTo(1 / 2, 14);
  });

  it("agrees with a per-class set computation on random maps, and one image equals the list it was cut into", () => {
    let state = 12345;
    const next = () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state / 2 ** 32;
    };
    const classes = 5;
    const n = 600;
    const gt = Int32Array.from({ length: n }, () => (next() < 0.1 ? 255 : Math.floor(next() * classes)));
    const pred = Int32Array.from(gt, (t) => (next() < 0.6 && t !== 255 ? t : Math.floor(next() * classes)));
    // Reference: IoU_c = |{gt = c} ∩ {pred = c}| / |{gt = c} ∪ {pred = c}| over the non-void pixels.
    const ious: number[] = [];
    for (let c = 0; c < classes; c++) {
      let inter = 0;
      let union = 0;
      for (let i = 0; i < n; i++) {
        if (gt[i] === 255) continue;
        const a = gt[i] === c;
        const b = pred[i] === c;
        if (a && b) inter++;
        if (a || b) union++;
      }
      if (union > 0) ious.push(inter / union);
    }
    const whole = segmentationMetrics(pred, gt, { classes });
    expect(whole.mIoU).toBeCloseTo(ious.reduce((s, v) => s + v, 0) / ious.length, 12);
    const parts = segmentationMetrics(
      [pred.subarray(0, 100), pred.subarray(100, 350), pred.subarray(350)],
      [gt.subarray(0, 100), gt.subarray(100, 350), gt.subarray(350)],
      { classes },
    );
    expect(parts).toEqual(whole);
  });

  it("is 1 for a perfect prediction and invariant to relabelling pixels' order", () => {
    const gt = [0, 1, 2, 2, 1, 0, 0];
    expect(segmentationMetrics(gt, gt, { classes: 3 }).mIoU).toBe(1);
    const pred = [0, 2, 2, 1, 1, 0, 1];
    const order = [6, 3, 0, 5, 1, 4, 2];
    const a = segmentationMetrics(pred, gt, { classes: 3 });
    const b = segmentationMetrics(
      order.map((i) => pred[i]!),
      order.map((i) => gt[i]!),
      { classes: 3 },
    );
    expect(b.mIoU).toBeCloseTo(a.mIoU, 14);
    expect(b.pixelAccuracy).toBeCloseTo(a.pixelAccuracy, 14);
  });

  it("honours a custom ignoreIndex", () => {
    const m = segmentationMetrics([1, 0, 1], [1, -1, 0], { classes: 2, ignoreIndex: -1 });
    expect(m.pixels).toBe(2);
    expect(m.pixelAccuracy).toBeCloseTo(1 / 2, 14);
  });

  it("throws typed errors naming the field", () => {
    expect(codeOf(() => segmentationMetrics([0, 1], [0], { classes: 2 }))).toBe("SHAPE_MISMATCH");
    expect(codeOf(() => segmentationMetrics([[0]], [[0], [1]], { classes: 2 }))).toBe("SHAPE_MISMATCH");
    expect(codeOf(() => segmentationMetrics([0], [0], { classes: 0 }))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => segmentationMetrics([0], [0], { classes: 3, ignoreIndex: 1 }))).toBe(
      "INVALID_ARGUMENT",
    );
    expect(() => segmentationMetrics([0, 2], [0, 1], { classes: 2 })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT", path: "pred[1]" }),
    );
    expect(() => segmentationMetrics([0, 1], [0, 1.5], { classes: 2 })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT", path: "gt[1]" }),
    );
    expect(() => segmentationMetrics([[0], [7]], [[0], [1]], { classes: 2 })).toThrow(
      expect.objectContaining({ path: "pred[1][0]" }),
    );
    expect(codeOf(() => segmentationMetrics([0, 0], [255, 255], { classes: 2 }))).toBe("NO_VALID_PIXELS");
    expect(codeOf(() => segmentationMetrics([], [], { classes: 2 }))).toBe("NO_VALID_PIXELS");
    expect(codeOf(() => segmentationMetrics("ab" as never, [0, 1], { classes: 2 }))).toBe("INVALID_ARGUMENT");
  });
});
