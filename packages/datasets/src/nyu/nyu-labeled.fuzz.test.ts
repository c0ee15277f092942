import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { expectTypedOrSuccessAsync, fuzzRuns, fuzzSeed, fuzzTimeoutMs } from "../../../../scripts/fuzz";
import {
  describeTree,
  FILE_ERROR_CODES,
  FUZZ_MAX_MS,
  fuzzWorkspace,
  mutatedTree,
  writeTree,
} from "../test-support/fuzz-files";
import { openNyuDepthV2 } from "./nyu-labeled-dataset";

const RUNS = fuzzRuns(200);
const FIXTURE = new URL("../__fixtures__/nyu-labeled-tiny.mat", import.meta.url).pathname;

describe("NYU labelled .mat fuzz (HDF5 through h5wasm)", () => {
  // HDF5 prints a diagnostic stack to stderr for each damaged file (from inside the WASM module, so it cannot be
  // silenced here); the assertions are on the thrown errors.
  it(
    "openNyuDepthV2 and get() return or throw a declared KoraError code, quickly, for any mutated file",
    async () => {
      const { parent, remove } = fuzzWorkspace("nyu-h5");
      const tree = { "nyu_depth_v2_labeled.mat": new Uint8Array(readFileSync(FIXTURE)) };
      const outcomes = new Set<string>();
      await fc.assert(
        fc.asyncProperty(mutatedTree(tree), async (input) => {
          const dir = writeTree(parent, tree, input);
          try {
            outcomes.add(
              await expectTypedOrSuccessAsync(
                async () => {
                  const dataset = await openNyuDepthV2({ root: dir, split: "all", verifyCounts: false });
                  try {
                    for (let i = 0; i < dataset.size; i++) dataset.get(i);
                  } finally {
                    dataset.close();
                  }
                },
                { codes: FILE_ERROR_CODES, maxMs: FUZZ_MAX_MS, describe: () => describeTree(input) },
              ),
            );
          } finally {
            remove(dir);
          }
        }),
        { seed: fuzzSeed(1721), numRuns: RUNS },
      );
      expect(outcomes.has("ok")).toBe(true);
      expect(outcomes.has("INVALID_DATASET_FILE")).toBe(true);
    },
    fuzzTimeoutMs(RUNS, 200),
  );
});
