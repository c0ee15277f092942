// Property-based fuzzing of readNpy (issue 17): on mutated valid files, hand-made bombs and random bytes it
// returns, or throws KoraError INVALID_NPY, within a per-input bound.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  describeBytes,
  expectTypedOrSuccess,
  fuzzRuns,
  fuzzSeed,
  fuzzTimeoutMs,
  hostileBytes,
  leBytes,
  type Outcome,
} from "../../../../scripts/fuzz";
import { readNpy } from "./read-npy";

/** A .npy file as numpy writes it: header padded with spaces to a multiple of 64 bytes, ending in a newline. */
function npy(descr: string, shape: string, data: Uint8Array, fortran = false, version = 1): Uint8Array {
  const prefix = version === 1 ? 10 : 12;
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran ? "True" : "False"}, 'shape': ${shape}, }`;
  const total = Math.ceil((prefix + header.length + 1) / 64) * 64;
  header = `${header}${" ".repeat(total - prefix - header.length - 1)}\n`;
  const out = new Uint8Array(total + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  out.set(leBytes(BigInt(header.length), version === 1 ? 2 : 4), 8);
  out.set(new TextEncoder().encode(header), prefix);
  out.set(data, total);
  return out;
}

const bytesOf = (view: ArrayBufferView) => new Uint8Array(view.buffer, view.byteOffset, view.byteLength);

const SEEDS = [
  npy("<f4", "(2, 3)", bytesOf(new Float32Array([1, 2, 3, 4, 5, 6]))),
  npy("<f8", "(3, 2)", bytesOf(new Float64Array([1, 2, 3, 4, 5, 6])), true),
  npy("<i8", "(2,)", bytesOf(new BigInt64Array([-1n, 7n])), false, 2),
  npy("|b1", "(2, 2, 1)", Uint8Array.from([1, 0, 0, 1]), true, 3),
  npy("<f2", "()", bytesOf(new Uint16Array([0x3c00]))),
  npy("|u1", "(0, 5)", new Uint8Array(0)),
];

const BOMBS = [
  npy("<f4", `(${"1,".repeat(60_000)})`, new Uint8Array(4), true, 2),
  npy("<f4", `(${"1,".repeat(65)})`, new Uint8Array(4), true, 2),
  npy("<f8", "(4294967296, 4294967296)", new Uint8Array(8)),
  npy("<f8", "(9007199254740993,)", new Uint8Array(8)),
  npy("<f4", "(1,)", new Uint8Array(4), false, 2).map((b, i) => (i >= 8 && i < 12 ? 0xff : b)),
];

const MAX_MS = 2_000;
const RUNS = fuzzRuns(400);

function check(bytes: Uint8Array): Outcome {
  return expectTypedOrSuccess(() => readNpy(bytes, "fuzz.npy"), {
    codes: ["INVALID_NPY"],
    maxMs: MAX_MS,
    describe: () => describeBytes(bytes),
  });
}

describe("readNpy fuzz", () => {
  it("reads every seed", () => {
    for (const seed of SEEDS) expect(check(seed)).toBe("ok");
  });

  it.each(BOMBS.map((bytes, i) => [i, bytes] as const))("hand-made bomb %i is a typed error", (_, bytes) => {
    expect(check(bytes)).toBe("INVALID_NPY");
  });

  it(
    `returns or throws INVALID_NPY on ${RUNS} mutated files`,
    () => {
      const outcomes = new Map<Outcome, number>();
      fc.assert(
        fc.property(hostileBytes(SEEDS), (bytes) => {
          const outcome = check(bytes);
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        }),
        { seed: fuzzSeed(17_0002), numRuns: RUNS },
      );
      expect(outcomes.get("ok") ?? 0).toBeGreaterThan(0);
      expect(outcomes.get("INVALID_NPY") ?? 0).toBeGreaterThan(RUNS / 4);
    },
    fuzzTimeoutMs(RUNS, MAX_MS),
  );
});
