import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { expectTypedOrSuccess, fuzzRuns, fuzzSeed, fuzzTimeoutMs } from "../../../../scripts/fuzz";
import { idxFields } from "../test-support/format-fields";
import { idxBytes } from "../test-support/formats";
import {
  describeTree,
  FILE_ERROR_CODES,
  FUZZ_MAX_MS,
  fuzzWorkspace,
  mutatedTree,
  writeTree,
} from "../test-support/fuzz-files";
import { readIdxFile } from "./idx-dataset";
import { parseIdx } from "./parse-idx";

const RUNS = fuzzRuns(300);

/** Valid IDX files of every element type, raw and gzip-compressed. */
function seeds(): Uint8Array[] {
  const images = idxBytes(
    0x08,
    [3, 4, 2],
    Uint8Array.from({ length: 24 }, (_, i) => i * 9),
  );
  const labels = idxBytes(0x08, [3], Uint8Array.from([0, 9, 4]));
  const int16 = idxBytes(
    0x0b,
    [2, 2],
    Uint8Array.from({ length: 8 }, (_, i) => i),
  );
  const float64 = idxBytes(0x0e, [1], new Uint8Array(8).fill(0x3f));
  return [images, labels, int16, float64, gzipSync(images), gzipSync(labels)];
}

describe("IDX reader fuzz (mutated raw and gzip files)", () => {
  it(
    "readIdxFile returns or throws a declared KoraError code, quickly, for any file",
    () => {
      const { parent, remove } = fuzzWorkspace("idx");
      const valid = seeds();
      const tree = Object.fromEntries(valid.map((bytes, i) => [`f${i}-idx-ubyte`, bytes]));
      const fields = Object.fromEntries(
        valid.slice(0, 4).map((bytes, i) => [`f${i}-idx-ubyte`, idxFields(bytes)]),
      );
      const outcomes = new Set<string>();
      fc.assert(
        fc.property(mutatedTree(tree, Object.keys(tree), fields), (input) => {
          const dir = writeTree(parent, { [input.target]: input.bytes });
          try {
            outcomes.add(
              expectTypedOrSuccess(() => readIdxFile(`${dir}/${input.target}`), {
                codes: FILE_ERROR_CODES,
                maxMs: FUZZ_MAX_MS,
                describe: () => describeTree(input),
              }),
            );
          } finally {
            remove(dir);
          }
        }),
        { seed: fuzzSeed(1701), numRuns: RUNS },
      );
      // The inputs reach both sides of the reader.
      expect(outcomes.has("ok")).toBe(true);
      expect(outcomes.has("INVALID_DATASET_FILE")).toBe(true);
    },
    fuzzTimeoutMs(RUNS, 100),
  );

  it(
    "parseIdx (bytes in memory) is total as well",
    () => {
      const valid = seeds().slice(0, 4);
      const tree = Object.fromEntries(valid.map((bytes, i) => [String(i), bytes]));
      const fields = Object.fromEntries(valid.map((bytes, i) => [String(i), idxFields(bytes)]));
      fc.assert(
        fc.property(mutatedTree(tree, Object.keys(tree), fields), (input) => {
          expectTypedOrSuccess(() => parseIdx(input.bytes, "fuzz.idx"), {
            codes: FILE_ERROR_CODES,
            maxMs: FUZZ_MAX_MS,
            describe: () => describeTree(input),
          });
        }),
        { seed: fuzzSeed(1702), numRuns: RUNS },
      );
    },
    fuzzTimeoutMs(RUNS, 50),
  );
});
