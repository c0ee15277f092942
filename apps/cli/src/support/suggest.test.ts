import { describe, expect, it } from "vitest";
import { didYouMean, suggest } from "./suggest";

describe("suggest", () => {
  it("finds transpositions, deletions and substitutions", () => {
    expect(suggest("rnak", ["rank", "alpha"])).toBe("rank");
    expect(suggest("lorra", ["lora", "kora", "adapter-fusion"])).toBe("lora");
    expect(suggest("vit-bse", ["vit-micro", "vit-tiny", "vit-small", "vit-base"])).toBe("vit-base");
  });

  it("suggests nothing for an unrelated word", () => {
    expect(suggest("zzz", ["rank", "alpha"])).toBeUndefined();
    expect(didYouMean("completely-different", ["lora"])).toBe("");
  });
});
