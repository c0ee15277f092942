// Property-based fuzzing of readSafetensors (issue 17): on mutated valid files, hand-made bombs and random bytes
// it returns, or throws KoraError INVALID_SAFETENSORS, within a per-input bound. CI runs a few hundred inputs with
// a fixed seed; `pnpm --filter @kora/spec fuzz` runs a release campaign (see the package README).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  deepJson,
  describeBytes,
  expectTypedOrSuccess,
  fuzzRuns,
  fuzzSeed,
  fuzzTimeoutMs,
  hostileBytes,
  leBytes,
  type Outcome,
} from "../../../../scripts/fuzz";
import { readSafetensors } from "./read";
import { writeSafetensors } from "./write";

const SEEDS = [
  writeSafetensors(
    {
      a: { dtype: "U8", shape: [3], data: new Uint8Array([1, 2, 3]) },
      h: { dtype: "F16", shape: [2], data: new Uint16Array([0x3c00, 0x7e00]) },
      w: { dtype: "F32", shape: [2, 2], data: new Float32Array([1, -2, 3.5, 0]) },
      n: { dtype: "I64", shape: [1], data: new BigInt64Array([-5n]) },
      e: { dtype: "BOOL", shape: [0], data: new Uint8Array(0) },
    },
    { format: "pt", note: "seed" },
  ),
  writeSafetensors({ "layers.0.query.lora_A": { dtype: "F32", shape: [2, 4], data: new Float32Array(8) } }),
  writeSafetensors({ b: { dtype: "BF16", shape: [1, 1, 3], data: new Uint16Array(3) } }, {}),
  writeSafetensors({}),
];

/** A file with `header` verbatim. */
function file(header: string): Uint8Array {
  const text = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + text.length);
  out.set(leBytes(BigInt(text.length), 8));
  out.set(text, 8);
  return out;
}

const BOMBS = [
  file(`{"a":${deepJson(200_000)}}`),
  file(`{"__metadata__":${deepJson(200_000, "{")}}`),
  file(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}}`),
  file(`{"a":{"dtype":"F32","shape":[${"1,".repeat(100_000)}1],"data_offsets":[0,4]}}`),
  Uint8Array.from([...leBytes(2n ** 64n - 1n, 8), 0x7b, 0x7d]),
];

/** Generous: the slowest input here takes a few ms; the bound is there to catch a hang, not to time the reader. */
const MAX_MS = 2_000;
const RUNS = fuzzRuns(400);

function check(bytes: Uint8Array): Outcome {
  return expectTypedOrSuccess(() => readSafetensors(bytes), {
    codes: ["INVALID_SAFETENSORS"],
    maxMs: MAX_MS,
    describe: () => describeBytes(bytes),
  });
}

describe("readSafetensors fuzz", () => {
  it.each(BOMBS.map((bytes, i) => [i, bytes] as const))("hand-made bomb %i is a typed error", (_, bytes) => {
    expect(check(bytes)).toBe("INVALID_SAFETENSORS");
  });

  it(
    `returns or throws INVALID_SAFETENSORS on ${RUNS} mutated files`,
    () => {
      const outcomes = new Map<Outcome, number>();
      fc.assert(
        fc.property(hostileBytes(SEEDS), (bytes) => {
          const outcome = check(bytes);
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        }),
        { seed: fuzzSeed(17_0001), numRuns: RUNS },
      );
      // Not vacuous: the inputs reach both outcomes.
      expect(outcomes.get("ok") ?? 0).toBeGreaterThan(0);
      expect(outcomes.get("INVALID_SAFETENSORS") ?? 0).toBeGreaterThan(RUNS / 4);
    },
    fuzzTimeoutMs(RUNS, MAX_MS),
  );
});
