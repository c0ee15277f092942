import { describe, expect, it } from "vitest";
import { parseLabelMap } from "./pretrain-run";

describe("kora pretrain --label-map", () => {
  it("maps each class to its coarser label", () => {
    expect(parseLabelMap(undefined, 10)).toBeNull();
    expect(parseLabelMap("0,1,0,0,0,2,0,2,3,2", 10)).toEqual([0, 1, 0, 0, 0, 2, 0, 2, 3, 2]);
    expect(parseLabelMap(" 1, 0 ,1", 3)).toEqual([1, 0, 1]);
  });

  it("refuses a map of the wrong length, a non-integer, a gap in the labels or a single label (usage errors)", () => {
    for (const bad of ["0,1", "0,1,x", "0,1,-1", "0,2,0", "0,0,0", "0,1,1.5"]) {
      expect(() => parseLabelMap(bad, 3), bad).toThrow(/--label-map/);
    }
  });
});
