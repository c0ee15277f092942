import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { expectTypedOrSuccess, fuzzRuns, fuzzSeed, fuzzTimeoutMs } from "../../../../scripts/fuzz";
import { matFields } from "../test-support/format-fields";
import { matV5 } from "../test-support/formats";
import {
  describeTree,
  FILE_ERROR_CODES,
  FUZZ_MAX_MS,
  fuzzWorkspace,
  mutatedTree,
  writeTree,
} from "../test-support/fuzz-files";
import { readMatV5 } from "./mat-v5";
import { readNyuSplitFile } from "./nyu-labeled-dataset";

const RUNS = fuzzRuns(400);

/** splits.mat-like files, plain and compressed, plus a JSON split file. */
const tree = {
  "plain.mat": matV5({ trainNdxs: [1, 3, 4], testNdxs: [2] }, false),
  "compressed.mat": matV5({ trainNdxs: [2, 4], testNdxs: [1, 3, 5] }, true),
  "empty.mat": matV5({}, false),
  "splits.json": new TextEncoder().encode('{"trainNdxs":[1,3],"testNdxs":[2]}'),
};

const fields = {
  "plain.mat": matFields(tree["plain.mat"]),
  "compressed.mat": matFields(tree["compressed.mat"]),
};

describe("MAT v5 reader fuzz (splits.mat)", () => {
  it(
    "readMatV5 returns or throws a declared KoraError code, quickly, for any bytes",
    () => {
      const outcomes = new Set<string>();
      fc.assert(
        fc.property(mutatedTree(tree, ["plain.mat", "compressed.mat"], fields), (input) => {
          outcomes.add(
            expectTypedOrSuccess(() => readMatV5(input.bytes, "fuzz.mat", { maxFileBytes: 64 << 20 }), {
              codes: FILE_ERROR_CODES,
              maxMs: FUZZ_MAX_MS,
              describe: () => describeTree(input),
            }),
          );
        }),
        { seed: fuzzSeed(1711), numRuns: RUNS },
      );
      expect(outcomes.has("ok")).toBe(true);
      expect(outcomes.has("INVALID_DATASET_FILE")).toBe(true);
    },
    fuzzTimeoutMs(RUNS, 50),
  );

  it(
    "readNyuSplitFile (MAT or JSON on disk) is total as well",
    () => {
      const { parent, remove } = fuzzWorkspace("splits");
      fc.assert(
        fc.property(mutatedTree(tree, ["compressed.mat", "splits.json"]), (input) => {
          const dir = writeTree(parent, { [input.target]: input.bytes });
          try {
            expectTypedOrSuccess(() => readNyuSplitFile(`${dir}/${input.target}`), {
              codes: FILE_ERROR_CODES,
              maxMs: FUZZ_MAX_MS,
              describe: () => describeTree(input),
            });
          } finally {
            remove(dir);
          }
        }),
        { seed: fuzzSeed(1712), numRuns: Math.ceil(RUNS / 2) },
      );
    },
    fuzzTimeoutMs(RUNS, 50),
  );
});
