import { describe, expect, it } from "vitest";
import { KoraError } from "../errors";
import { parseAdapterSpec } from "../spec/parse-adapter-spec";
import type { BackboneShape } from "./backbone-shape";
import { countParameters } from "./count-parameters";
import { loraRankForCount, matchingRank } from "./matching-rank";

// The shape of vit-mini-28 (@kora/vit's preset): 12 blocks, D = 64, MLP 256, 28×28 grey images in 7×7 patches.
const mini: BackboneShape = {
  dim: 64,
  depth: 12,
  heads: 4,
  mlpDim: 256,
  numClasses: 10,
  patchSize: 7,
  imageSize: 28,
  channels: 1,
};

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (KoraError.isInstance(error)) return error.code;
    throw error;
  }
  return undefined;
}

describe("loraRankForCount / matchingRank", () => {
  it("gives the LoRA (q,v) of KoRA's default size on vit-mini-28's shape: within half a rank-step of KoRA's count", () => {
    const kora = countParameters(parseAdapterSpec({ method: "kora" }), mini).adapter;
    // Hand count per block, KoRA r 8, h 4, D 64: 3·2·8·64 (pairs) + 4·192 + 4 (W₁, b₁) + 64·4 + 64 (W₂, b₂) + 1 = 4 165.
    expect(kora).toBe(12 * (3 * 2 * 8 * 64 + 4 * 3 * 64 + 4 + 64 * 4 + 64 + 1));
    const match = loraRankForCount(mini, ["query", "value"], kora);
    // One LoRA rank on q and v of 12 blocks costs 12 · 2 · (64 + 64) = 3 072 parameters.
    const step = 12 * 2 * (64 + 64);
    expect(match.count).toBe(match.rank * step);
    expect(Math.abs(match.count - kora)).toBeLessThanOrEqual(step / 2);
    expect(match.rank).toBe(16); // 49 980 / 3 072 = 16.27
    expect(match.spec).toEqual(parseAdapterSpec({ method: "lora", rank: 16 }));
  });

  it("takes the closest rank on either side, the lower one on a tie, and at least rank 1", () => {
    const step = 12 * 2 * 128;
    expect(loraRankForCount(mini, ["query", "value"], 5.4 * step).rank).toBe(5);
    expect(loraRankForCount(mini, ["query", "value"], 5.6 * step).rank).toBe(6);
    expect(loraRankForCount(mini, ["query", "value"], 5.5 * step).rank).toBe(5);
    expect(loraRankForCount(mini, ["query", "value"], 1).rank).toBe(1);
    // Affine counts (KoRA's composition does not grow with r) and other methods work the same way.
    const kora = countParameters(parseAdapterSpec({ method: "kora", rank: 3 }), mini).adapter;
    expect(matchingRank({ method: "kora", rank: 99 }, mini, kora).rank).toBe(3);
    const gated = matchingRank({ method: "gated-lora", targets: ["fc1"] }, mini, 40_000);
    const perRank = 12 * (64 + 256);
    expect(Math.abs(gated.count - 40_000)).toBeLessThanOrEqual(perRank / 2);
  });

  it("rejects a count that is not positive and a method without a rank", () => {
    expect(codeOf(() => loraRankForCount(mini, ["query"], 0))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => loraRankForCount(mini, ["query"], Number.NaN))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => matchingRank({ method: "gated-bottleneck" }, mini, 1000))).toBe("INVALID_SPEC");
  });
});
