import { KoraError } from "@kora/spec";
import { describe, expect, it } from "vitest";
import { constantSchedule, stepSchedule, warmupCosineSchedule } from "./schedules";

describe("learning-rate schedules", () => {
  it("constant is 1 everywhere", () => {
    const s = constantSchedule();
    expect([0, 1, 1000].map(s)).toEqual([1, 1, 1]);
  });

  it("linear warmup then cosine decay (HF get_cosine_schedule_with_warmup)", () => {
    const s = warmupCosineSchedule({ warmupSteps: 10, totalSteps: 110 });
    expect(s(0)).toBe(0);
    expect(s(5)).toBeCloseTo(0.5, 12);
    expect(s(10)).toBeCloseTo(1, 12);
    // progress 0.25 → ½(1 + cos(π/4)) = 0.853553390593…
    expect(s(35)).toBeCloseTo(0.8535533905932737, 12);
    expect(s(60)).toBeCloseTo(0.5, 12);
    expect(s(110)).toBeCloseTo(0, 12);
    expect(s(500)).toBeCloseTo(0, 12);
    const floor = warmupCosineSchedule({ warmupSteps: 0, totalSteps: 100, minFactor: 0.1 });
    expect(floor(0)).toBeCloseTo(1, 12);
    expect(floor(50)).toBeCloseTo(0.55, 12);
    expect(floor(100)).toBeCloseTo(0.1, 12);
  });

  it("step decay (torch StepLR)", () => {
    const s = stepSchedule({ stepSize: 30, gamma: 0.1 });
    expect(s(0)).toBe(1);
    expect(s(29)).toBe(1);
    expect(s(30)).toBeCloseTo(0.1, 12);
    expect(s(60)).toBeCloseTo(0.01, 12);
    expect(s(89)).toBeCloseTo(0.01, 12);
  });

  it("rejects bad options naming the field", () => {
    try {
      warmupCosineSchedule({ warmupSteps: 10, totalSteps: 10 });
      expect.unreachable();
    } catch (error) {
      expect(KoraError.isInstance(error) && error.code === "INVALID_ARGUMENT" && error.path).toBe(
        "totalSteps",
      );
    }
    expect(() => stepSchedule({ stepSize: 0 })).toThrow(/stepSize/);
  });
});
