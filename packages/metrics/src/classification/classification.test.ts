import { describe, expect, it } from "vitest";
import { codeOf } from "../../test/helpers";
import { accuracy, topKAccuracy } from "./accuracy";
import { classificationReport } from "./classification-report";
import { confusionMatrix } from "./confusion-matrix";
import { f1Score, precisionRecallF1Support } from "./f1-score";

// Hand-computed (scikit-learn semantics):
// label 0: tp 2, fp 1, fn 1 → P = R = F1 = 2/3, support 3
// label 1: tp 0, fp 2, fn 2 → P = R = F1 = 0, support 2
// label 2: tp 2, fp 1, fn 1 → P = R = F1 = 2/3, support 3
const yTrue = [0, 1, 2, 0, 1, 2, 0, 2];
const yPred = [0, 2, 1, 0, 0, 2, 1, 2];

describe("accuracy and topKAccuracy", () => {
  it("accuracy", () => {
    expect(accuracy(yTrue, yPred)).toBe(0.5);
    expect(accuracy(Int32Array.from(yTrue), Float32Array.from(yTrue))).toBe(1);
    expect(accuracy(["cat", "dog"], ["cat", "cat"])).toBe(0.5);
  });

  it("topKAccuracy with scikit-learn's tie order", () => {
    const scores = [
      [0.1, 0.5, 0.4],
      [0.3, 0.3, 0.4], // true class 0 ties with class 1, which ranks ahead (stable descending sort)
      [0.7, 0.2, 0.1],
    ];
    const labels = [2, 0, 1];
    expect(topKAccuracy(labels, scores, { k: 1 })).toBe(0);
    expect(topKAccuracy(labels, scores, { k: 2 })).toBeCloseTo(2 / 3, 15);
    expect(topKAccuracy(labels, scores, { k: 3 })).toBe(1);
    expect(topKAccuracy([1], [[0.3, 0.3, 0.4]], { k: 2 })).toBe(1);
    expect(topKAccuracy(labels, { rows: 3, cols: 3, data: new Float32Array(scores.flat()) })).toBe(1);
  });

  it("error codes", () => {
    expect(codeOf(() => accuracy([1, 2], [1]))).toBe("SHAPE_MISMATCH");
    expect(codeOf(() => accuracy([], []))).toBe("TOO_FEW_EXAMPLES");
    expect(codeOf(() => accuracy([1, Number.NaN], [1, 2]))).toBe("NON_FINITE");
    expect(codeOf(() => accuracy([1, 2], ["1", "2"]))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => topKAccuracy([0], [[1, 2]], { k: 0 }))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => topKAccuracy([2], [[1, 2]]))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => topKAccuracy([0, 1], [[1, 2]]))).toBe("SHAPE_MISMATCH");
    expect(codeOf(() => topKAccuracy([0], [[1, Number.POSITIVE_INFINITY]]))).toBe("NON_FINITE");
  });
});

describe("confusionMatrix", () => {
  it("rows = true, columns = predicted, sorted union of labels", () => {
    expect(confusionMatrix(yTrue, yPred)).toEqual({
      labels: [0, 1, 2],
      matrix: [
        [2, 1, 0],
        [1, 0, 1],
        [0, 1, 2],
      ],
    });
  });
  it("explicit labels reorder and drop", () => {
    expect(confusionMatrix(yTrue, yPred, { labels: [2, 0] }).matrix).toEqual([
      [2, 0],
      [0, 2],
    ]);
    expect(confusionMatrix(["b", "a", "c"], ["a", "a", "c"])).toEqual({
      labels: ["a", "b", "c"],
      matrix: [
        [1, 0, 0],
        [1, 0, 0],
        [0, 0, 1],
      ],
    });
    expect(confusionMatrix([10, 9], [9, 9]).labels).toEqual([9, 10]);
  });
  it("rejects repeated labels", () => {
    expect(codeOf(() => confusionMatrix(yTrue, yPred, { labels: [1, 1] }))).toBe("INVALID_ARGUMENT");
  });
});

describe("f1Score (scikit-learn semantics)", () => {
  it("every average", () => {
    expect(f1Score(yTrue, yPred)).toBeCloseTo(4 / 9, 15);
    expect(f1Score(yTrue, yPred, { average: "macro" })).toBeCloseTo(4 / 9, 15);
    expect(f1Score(yTrue, yPred, { average: "weighted" })).toBeCloseTo(0.5, 15);
    expect(f1Score(yTrue, yPred, { average: "micro" })).toBeCloseTo(0.5, 15);
    const none = f1Score(yTrue, yPred, { average: "none" });
    expect(none).toHaveLength(3);
    expect(none[0]).toBeCloseTo(2 / 3, 15);
    expect(none[1]).toBe(0);
    expect(none[2]).toBeCloseTo(2 / 3, 15);
  });

  it("zeroDivision 0 / 1 / NaN for a label never seen anywhere; NaN is excluded from the macro mean", () => {
    const labels = [0, 1, 2, 3];
    expect(f1Score(yTrue, yPred, { labels, zeroDivision: 0 })).toBeCloseTo(1 / 3, 15);
    expect(f1Score(yTrue, yPred, { labels, zeroDivision: 1 })).toBeCloseTo(7 / 12, 15);
    expect(f1Score(yTrue, yPred, { labels, zeroDivision: Number.NaN })).toBeCloseTo(4 / 9, 15);
    const none = f1Score(yTrue, yPred, { labels, zeroDivision: Number.NaN, average: "none" });
    expect(none[3]).toBeNaN();
    for (const zeroDivision of [0, 1, Number.NaN]) {
      // support 0 → weight 0 in the weighted mean
      expect(f1Score(yTrue, yPred, { labels, zeroDivision, average: "weighted" })).toBeCloseTo(0.5, 15);
      expect(f1Score(yTrue, yPred, { labels, zeroDivision, average: "micro" })).toBeCloseTo(0.5, 15);
    }
    expect(f1Score([0], [1], { labels: [5], zeroDivision: Number.NaN })).toBeNaN();
    expect(f1Score([0], [1], { labels: [5], zeroDivision: 1, average: "micro" })).toBe(1);
  });

  it("a label with true examples but no predictions has F1 0 whatever zeroDivision (only precision uses it)", () => {
    const t = [0, 0, 1, 1];
    const p = [0, 0, 0, 0];
    for (const zeroDivision of [0, 1, Number.NaN]) {
      expect(f1Score(t, p, { average: "none", zeroDivision })).toEqual([2 / 3, 0]);
      expect(f1Score(t, p, { zeroDivision })).toBeCloseTo(1 / 3, 15);
    }
    const prfs = precisionRecallF1Support(t, p, { zeroDivision: 1 });
    expect(prfs).toEqual({
      labels: [0, 1],
      precision: [0.5, 1],
      recall: [1, 0],
      f1: [2 / 3, 0],
      support: [2, 2],
    });
    expect(precisionRecallF1Support(t, p, { zeroDivision: Number.NaN }).precision[1]).toBeNaN();
  });

  it("weighted mean falls back to the plain mean when every weight is 0 (scikit-learn's _nanaverage)", () => {
    expect(f1Score([0, 0], [1, 1], { labels: [1], average: "weighted" })).toBe(0);
    expect(f1Score([0, 0], [1, 2], { labels: [1, 2], average: "weighted" })).toBe(0);
  });

  it("error codes", () => {
    expect(codeOf(() => f1Score(yTrue, yPred, { zeroDivision: 0.5 }))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => f1Score(yTrue, yPred, { average: "binary" as "macro" }))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => f1Score(yTrue, yPred.slice(1)))).toBe("SHAPE_MISMATCH");
    expect(codeOf(() => f1Score(yTrue, yPred, { labels: [] }))).toBe("INVALID_ARGUMENT");
  });
});

describe("classificationReport", () => {
  it("matches scikit-learn's output_dict structure and text layout", () => {
    const report = classificationReport(yTrue, yPred);
    expect(report.classes.map((c) => [c.name, c.support])).toEqual([
      ["0", 3],
      ["1", 2],
      ["2", 3],
    ]);
    expect(report.classes[0]!.precision).toBeCloseTo(2 / 3, 15);
    expect(report.accuracy).toBe(0.5);
    expect(report.microAvg).toBeUndefined();
    expect(report.macroAvg.f1).toBeCloseTo(4 / 9, 15);
    expect(report.macroAvg.support).toBe(8);
    expect(report.weightedAvg.precision).toBeCloseTo(0.5, 15);
    expect(report.text).toBe(
      [
        "              precision    recall  f1-score   support",
        "",
        "           0       0.67      0.67      0.67         3",
        "           1       0.00      0.00      0.00         2",
        "           2       0.67      0.67      0.67         3",
        "",
        "    accuracy                           0.50         8",
        "   macro avg       0.44      0.44      0.44         8",
        "weighted avg       0.50      0.50      0.50         8",
        "",
      ].join("\n"),
    );
  });

  it("a label subset reports a micro average instead of accuracy; targetNames name the rows", () => {
    const report = classificationReport(yTrue, yPred, {
      labels: [0, 2],
      targetNames: ["cat", "dog"],
      digits: 3,
    });
    expect(report.accuracy).toBeUndefined();
    expect(report.microAvg!.precision).toBeCloseTo(4 / 6, 15);
    expect(report.microAvg!.support).toBe(6);
    expect(report.text).toContain("         cat      0.667     0.667     0.667         3");
    expect(report.text).toContain("   micro avg      0.667     0.667     0.667         6");
    expect(codeOf(() => classificationReport(yTrue, yPred, { targetNames: ["a"] }))).toBe("SHAPE_MISMATCH");
  });
});
