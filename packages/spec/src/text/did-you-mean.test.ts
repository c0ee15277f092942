import { describe, expect, it } from "vitest";
import { closestName, didYouMean } from "./did-you-mean";

describe("closestName", () => {
  it("finds transpositions, deletions and substitutions", () => {
    expect(closestName("rnak", ["rank", "alpha"])).toBe("rank");
    expect(closestName("lorra", ["lora", "kora", "adapter-fusion"])).toBe("lora");
    expect(closestName("vit-bse", ["vit-micro", "vit-tiny", "vit-small", "vit-base"])).toBe("vit-base");
  });

  it("suggests nothing for an unrelated word", () => {
    expect(closestName("zzz", ["rank", "alpha"])).toBeUndefined();
    expect(didYouMean("completely-different", ["lora"])).toBe("");
  });
});
