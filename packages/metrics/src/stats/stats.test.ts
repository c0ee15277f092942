import { describe, expect, it } from "vitest";
import { codeOf } from "../../test/helpers";
import { holm } from "./holm";
import { logGamma, regularizedIncompleteBeta } from "./incomplete-beta";
import { pairedComparison } from "./paired-comparison";
import { pairedVerdict } from "./paired-verdict";
import { studentTCdf, studentTQuantile } from "./student-t";

describe("Student's t distribution", () => {
  it("gives the tabulated two-sided 95 % critical values t(0.975, df)", () => {
    // Four-decimal values of the standard t table (e.g. NIST/SEMATECH e-Handbook of Statistical Methods,
    // §1.3.6.7.2 "Critical values of the Student's t distribution", which prints them to three decimals:
    // 12.706, 4.303, 2.776, 2.262, 2.045).
    const table: [number, number][] = [
      [1, 12.7062],
      [2, 4.3027],
      [4, 2.7764],
      [9, 2.2622],
      [29, 2.0452],
    ];
    for (const [df, value] of table) expect(studentTQuantile(0.975, df)).toBeCloseTo(value, 4);
  });

  it("gives other tabulated quantiles (NIST/SEMATECH §1.3.6.7.2, three decimals) and is odd around p = 0.5", () => {
    const table: [number, number, number][] = [
      [0.95, 1, 6.314],
      [0.995, 1, 63.657],
      [0.95, 10, 1.812],
      [0.995, 5, 4.032],
      [0.99, 20, 2.528],
      [0.9, 100, 1.29],
    ];
    for (const [p, df, value] of table) {
      expect(Math.abs(studentTQuantile(p, df) - value)).toBeLessThan(5e-4);
      expect(studentTQuantile(1 - p, df)).toBeCloseTo(-studentTQuantile(p, df), 10);
    }
    expect(studentTQuantile(0.5, 3)).toBe(0);
  });

  it("matches the closed-form CDFs of df = 1, 2 and 3 to 1e-13", () => {
    // df 1 is the Cauchy distribution; df 2 and 3 have elementary closed forms.
    const closed: [number, (t: number) => number][] = [
      [1, (t) => 0.5 + Math.atan(t) / Math.PI],
      [2, (t) => 0.5 + t / (2 * Math.sqrt(t * t + 2))],
      [3, (t) => 0.5 + (t / (Math.sqrt(3) * (1 + (t * t) / 3)) + Math.atan(t / Math.sqrt(3))) / Math.PI],
    ];
    for (const [df, cdf] of closed) {
      for (const t of [-7.5, -2, -0.3, 0, 0.1, 1, 2.5, 12]) {
        expect(Math.abs(studentTCdf(t, df) - cdf(t))).toBeLessThan(1e-13);
      }
    }
    expect(studentTCdf(1, 1)).toBeCloseTo(0.75, 14);
  });

  it("keeps relative precision far in the tail, and the quantile inverts the CDF", () => {
    // P(T < −40) for df 1 is atan(1/40)/π, about 8e-3; for df 2 at t = −1000 it is about 5e-7.
    expect(studentTCdf(-40, 1) / (Math.atan(1 / 40) / Math.PI)).toBeCloseTo(1, 12);
    const df2 = (t: number) => 0.5 - t / (2 * Math.sqrt(t * t + 2));
    expect(studentTCdf(-1000, 2) / df2(1000)).toBeCloseTo(1, 9);
    for (const df of [1, 2.5, 7, 30, 400]) {
      for (const p of [1e-6, 0.01, 0.2, 0.5, 0.9, 0.999]) {
        expect(studentTCdf(studentTQuantile(p, df), df)).toBeCloseTo(p, 12);
      }
    }
    expect(studentTCdf(Number.POSITIVE_INFINITY, 3)).toBe(1);
    expect(studentTCdf(Number.NEGATIVE_INFINITY, 3)).toBe(0);
  });

  it("tends to the normal distribution for large df", () => {
    // Φ(1.959964) = 0.975 (the normal quantile), so t(0.975, 1e6) is within 1e-5 of it.
    expect(studentTQuantile(0.975, 1e6)).toBeCloseTo(1.959964, 5);
  });

  it("builds on a log-gamma and incomplete beta accurate to 1e-13", () => {
    expect(logGamma(1)).toBeCloseTo(0, 13);
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 13);
    expect(logGamma(10)).toBeCloseTo(Math.log(362880), 12);
    // I_x(1, 1) = x; I_x(a, 1) = x^a; I_x(a, b) = 1 − I_{1−x}(b, a).
    expect(regularizedIncompleteBeta(0.3, 1, 1)).toBeCloseTo(0.3, 14);
    expect(regularizedIncompleteBeta(0.7, 3.5, 1)).toBeCloseTo(0.7 ** 3.5, 13);
    expect(regularizedIncompleteBeta(0.4, 2.5, 7) + regularizedIncompleteBeta(0.6, 7, 2.5)).toBeCloseTo(
      1,
      14,
    );
  });

  it("rejects bad arguments with codes", () => {
    expect(codeOf(() => studentTCdf(1, 0))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => studentTCdf(1, Number.POSITIVE_INFINITY))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => studentTCdf(Number.NaN, 3))).toBe("NON_FINITE");
    expect(codeOf(() => studentTQuantile(1, 3))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => studentTQuantile(0, 3))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => studentTQuantile(0.5, -1))).toBe("INVALID_ARGUMENT");
  });
});

describe("pairedComparison", () => {
  it("computes the paired t test of a hand-worked example", () => {
    // Differences 3, 4, 2: mean 3, sd 1, se 1/√3, t = 3√3, df 2; with df 2 the two-sided p is 1 − t/√(t² + 2)
    // = 1 − √(27/29), and the 95 % interval is 3 ± 4.302653 / √3.
    const c = pairedComparison([81, 83, 80], [78, 79, 78], { higherIsBetter: true, minEffect: 1 });
    expect(c.n).toBe(3);
    expect(c.mean).toBeCloseTo(3, 14);
    expect(c.sd).toBeCloseTo(1, 14);
    expect(c.se).toBeCloseTo(1 / Math.sqrt(3), 14);
    expect(c.t).toBeCloseTo(3 * Math.sqrt(3), 12);
    expect(c.df).toBe(2);
    expect(c.p).toBeCloseTo(1 - Math.sqrt(27 / 29), 12);
    expect(c.critical).toBeCloseTo(4.302653, 6);
    expect(c.ci?.lower).toBeCloseTo(3 - 4.302653 / Math.sqrt(3), 6);
    expect(c.ci?.upper).toBeCloseTo(3 + 4.302653 / Math.sqrt(3), 6);
    expect(c.minEffect).toBe(1);
  });

  it("takes differences in the claimed direction: lower-is-better mirrors swapping the arguments", () => {
    const a = [0.31, 0.29, 0.35, 0.3];
    const b = [0.36, 0.33, 0.37, 0.34];
    const lower = pairedComparison(a, b, { higherIsBetter: false });
    const swapped = pairedComparison(b, a, { higherIsBetter: true });
    expect(lower.mean).toBeGreaterThan(0);
    expect(lower.mean).toBeCloseTo(swapped.mean, 14);
    expect(lower.p).toBeCloseTo(swapped.p as number, 14);
    expect(pairedComparison(a, b).mean).toBeCloseTo(-lower.mean, 14);
  });

  it("pairs by index: a shared per-seed offset does not change the result (unpaired it would)", () => {
    const base = pairedComparison([10, 11, 12, 13], [9, 10.5, 11, 12.2]);
    const offsets = [0, 50, -30, 7];
    const shifted = pairedComparison(
      [10, 11, 12, 13].map((v, i) => v + (offsets[i] as number)),
      [9, 10.5, 11, 12.2].map((v, i) => v + (offsets[i] as number)),
    );
    expect(shifted.t).toBeCloseTo(base.t as number, 10);
    expect(shifted.ci?.lower).toBeCloseTo(base.ci?.lower as number, 10);
  });

  it("the interval excludes 0 exactly when p < 1 − confidence", () => {
    let state = 12345;
    const random = () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state / 2 ** 31;
    };
    for (let trial = 0; trial < 200; trial++) {
      const n = 2 + (trial % 6);
      const a = Array.from({ length: n }, () => random());
      const b = a.map((v) => v - 0.1 + 0.4 * (random() - 0.5));
      const c = pairedComparison(a, b, { confidence: 0.9 });
      const excludes = (c.ci?.lower as number) > 0 || (c.ci?.upper as number) < 0;
      expect(excludes).toBe((c.p as number) < 0.1);
    }
  });

  it("has no spread with one pair, and an exact point with identical differences", () => {
    const one = pairedComparison([5], [3]);
    expect(one).toMatchObject({ n: 1, mean: 2, sd: null, se: null, t: null, p: null, ci: null });
    const same = pairedComparison([5, 6, 7], [4, 5, 6]);
    expect(same).toMatchObject({
      mean: 1,
      sd: 0,
      t: Number.POSITIVE_INFINITY,
      p: 0,
      ci: { lower: 1, upper: 1 },
    });
    expect(pairedComparison([5, 6], [5, 6])).toMatchObject({ t: 0, p: 1 });
  });

  it("rejects bad input with codes", () => {
    expect(codeOf(() => pairedComparison([1, 2], [1]))).toBe("SHAPE_MISMATCH");
    expect(codeOf(() => pairedComparison([], []))).toBe("TOO_FEW_EXAMPLES");
    expect(codeOf(() => pairedComparison([1, Number.NaN], [1, 2]))).toBe("NON_FINITE");
    expect(codeOf(() => pairedComparison([1, 2], [1, 2], { minEffect: -1 }))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => pairedComparison([1, 2], [1, 2], { confidence: 1 }))).toBe("INVALID_ARGUMENT");
  });
});

describe("holm", () => {
  it("adjusts a hand-computed example and keeps the input order", () => {
    // Sorted: 0.005 → 4·0.005 = 0.02; 0.01 → 3·0.01 = 0.03; 0.03 → 2·0.03 = 0.06; 0.04 → max(0.06, 1·0.04) = 0.06.
    const adjusted = holm([0.01, 0.04, 0.03, 0.005]);
    const expected = [0.03, 0.06, 0.06, 0.02];
    for (const [i, p] of adjusted.entries()) expect(p).toBeCloseTo(expected[i] as number, 15);
  });

  it("caps at 1, is monotone in the raw order, and leaves a single p alone", () => {
    expect(holm([0.5, 0.6])).toEqual([1, 1]);
    expect(holm([0.02])).toEqual([0.02]);
    expect(holm([])).toEqual([]);
    const raw = [0.001, 0.2, 0.013, 0.04, 0.9];
    const adjusted = holm(raw);
    for (let i = 0; i < raw.length; i++) {
      expect(adjusted[i]).toBeGreaterThanOrEqual(raw[i] as number);
      for (let j = 0; j < raw.length; j++)
        if ((raw[i] as number) < (raw[j] as number))
          expect(adjusted[i]).toBeLessThanOrEqual(adjusted[j] as number);
    }
  });

  it("rejects values that are not probabilities", () => {
    expect(codeOf(() => holm([0.1, 1.2]))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => holm([Number.NaN]))).toBe("NON_FINITE");
  });
});

describe("pairedVerdict", () => {
  const strong = pairedComparison([81, 83, 80], [78, 79, 78], { minEffect: 1 }); // mean 3, p ≈ 0.035

  it("reproduced: significant in the claimed direction and at least the minimum effect", () => {
    expect(pairedVerdict(strong).verdict).toBe("reproduced");
  });

  it("Holm's adjusted p can turn it inconclusive", () => {
    const v = pairedVerdict(strong, { p: holm([strong.p as number, 0.3, 0.4])[0] as number });
    expect(v.verdict).toBe("inconclusive");
  });

  it("contradicted: significant the other way, or the claimed effect excluded by the interval", () => {
    const opposite = pairedComparison([78, 79, 78], [81, 83, 80], { minEffect: 1 });
    expect(pairedVerdict(opposite)).toMatchObject({ verdict: "contradicted" });
    expect(pairedVerdict(opposite).reason).toMatch(/opposite direction/);
    // A real but small difference (0.2 ± 0.03) when the claim needs 1 point: the interval excludes the claim.
    const small = pairedComparison([10.2, 10.25, 10.18, 10.21], [10, 10.02, 10, 10.01], { minEffect: 1 });
    const v = pairedVerdict(small);
    expect(v.verdict).toBe("contradicted");
    expect(v.reason).toMatch(/claimed effect is excluded/);
  });

  it("inconclusive: one seed, or too noisy to tell", () => {
    expect(pairedVerdict(pairedComparison([80], [70], { minEffect: 1 }))).toEqual({
      verdict: "inconclusive",
      reason: "one seed: no spread to test against",
    });
    const noisy = pairedComparison([80, 70, 90], [75, 78, 77], { minEffect: 1 });
    expect(pairedVerdict(noisy).verdict).toBe("inconclusive");
  });

  it("rejects an alpha or p outside its domain", () => {
    expect(codeOf(() => pairedVerdict(strong, { alpha: 0 }))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => pairedVerdict(strong, { p: 2 }))).toBe("INVALID_ARGUMENT");
  });
});
