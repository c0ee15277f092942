import { KoraError } from "../errors";
import type { SpecErrorCode } from "../errors/kora-error";
import { parseAdapterSpec } from "../spec/parse-adapter-spec";
import type { AdapterSpec, TargetModule } from "../spec/types";
import type { BackboneShape } from "./backbone-shape";
import { countParameters } from "./count-parameters";

/** The rank {@link matchingRank} chose, its exact adapter count and the complete spec. */
export interface MatchingRank {
  /** The chosen rank (a positive integer). */
  rank: number;
  /** The exact adapter parameter count at that rank (head excluded), as `countParameters(spec).adapter`. */
  count: number;
  /** The complete spec at that rank. */
  spec: AdapterSpec;
}

// Ranks past this are not adapters any more (2^20 · D parameters per projection); the search stops there.
const MAX_RANK = 1 << 20;

/**
 * The rank of a rank-parameterised spec (`lora`, `gated-lora`, `kora`) whose adapter count on `backbone` is
 * closest to `count`, counted exactly through the method registry (ties go to the lower rank). Ranks are
 * integers, so the match is to the nearest rank: the count is within half a rank-step of `count`, not equal.
 *
 * @param input An adapter spec input (as `parseAdapterSpec` takes it) of a method with a `rank` field; its own
 *   `rank`, if any, is ignored.
 * @throws KoraError `INVALID_ARGUMENT` for a count that is not a positive finite number, `INVALID_SPEC` for a
 *   spec without a rank or a bad spec.
 */
export function matchingRank(
  input: Readonly<Record<string, unknown>>,
  backbone: BackboneShape,
  count: number,
): MatchingRank {
  if (!Number.isFinite(count) || count <= 0) {
    throw new KoraError<SpecErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `matchingRank: count must be a positive finite number of parameters, got ${count}`,
    });
  }
  const at = (rank: number): MatchingRank => {
    const spec = parseAdapterSpec({ ...input, rank });
    if (!("rank" in spec)) {
      throw new KoraError<SpecErrorCode>({
        code: "INVALID_SPEC",
        message: `matchingRank: a ${spec.method} adapter has no rank; use lora, gated-lora or kora`,
        path: "method",
      });
    }
    return { rank, count: countParameters(spec, backbone).adapter, spec };
  };
  // Counts grow strictly with the rank (every rank adds r·(in + out) per low-rank pair): find the first rank at or
  // above the target by doubling, then bisect, then compare it with the rank below.
  let high = 1;
  while (high < MAX_RANK && at(high).count < count) high *= 2;
  let low = Math.floor(high / 2);
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (at(mid).count < count) low = mid;
    else high = mid;
  }
  const above = at(high);
  if (low < 1) return above;
  const below = at(low);
  return count - below.count <= above.count - count ? below : above;
}

/**
 * The LoRA rank on `targets` whose adapter count is closest to `count` (e.g. KoRA's, for a LoRA of KoRA's
 * size). Ranks are integers, so the match is to the nearest rank.
 *
 * @throws KoraError as {@link matchingRank}.
 */
export function loraRankForCount(
  backbone: BackboneShape,
  targets: readonly TargetModule[],
  count: number,
): MatchingRank {
  return matchingRank({ method: "lora", targets: [...targets] }, backbone, count);
}
