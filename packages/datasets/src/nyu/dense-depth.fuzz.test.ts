import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { expectTypedOrSuccessAsync, fuzzRuns, fuzzSeed, fuzzTimeoutMs } from "../../../../scripts/fuzz";
import { denseDepthFiles } from "../test-support/dense-depth-files";
import { pngFields, zipFields } from "../test-support/format-fields";
import { zipBytes } from "../test-support/formats";
import {
  describeTree,
  FILE_ERROR_CODES,
  FUZZ_MAX_MS,
  fuzzWorkspace,
  type MutatedTree,
  mutatedTree,
  writeTree,
} from "../test-support/fuzz-files";
import { openDenseDepthNyu } from "./dense-depth-dataset";

const RUNS = fuzzRuns(250);

/** Opens both splits of `root` and decodes every pair; returns nothing, throws what the reader throws. */
async function readAll(root: string): Promise<void> {
  for (const split of ["train", "test"] as const) {
    const dataset = await openDenseDepthNyu({ root, split, verifyCounts: false });
    try {
      for (let i = 0; i < dataset.size; i++) dataset.get(i);
    } finally {
      dataset.close();
    }
  }
}

async function property(root: string, input: MutatedTree, outcomes: Set<string>): Promise<void> {
  outcomes.add(
    await expectTypedOrSuccessAsync(() => readAll(root), {
      codes: FILE_ERROR_CODES,
      maxMs: FUZZ_MAX_MS,
      describe: () => describeTree(input),
    }),
  );
}

describe("DenseDepth reader fuzz (zip + CSV + JPEG/PNG)", () => {
  it(
    "a mutated nyu_data.zip (plain or ZIP64) opens and decodes, or throws a declared KoraError code, quickly",
    async () => {
      const { parent, remove } = fuzzWorkspace("densedepth-zip");
      const files = denseDepthFiles();
      const tree = { "nyu_data.zip": zipBytes(files, false), "zip64.zip": zipBytes(files, true) };
      const fields = { "nyu_data.zip": zipFields(tree["nyu_data.zip"]) };
      const outcomes = new Set<string>();
      await fc.assert(
        fc.asyncProperty(mutatedTree(tree, Object.keys(tree), fields), async (input) => {
          const dir = writeTree(parent, { "nyu_data.zip": input.bytes });
          try {
            await property(dir, input, outcomes);
          } finally {
            remove(dir);
          }
        }),
        { seed: fuzzSeed(1731), numRuns: RUNS },
      );
      expect(outcomes.has("ok")).toBe(true);
      expect(outcomes.has("INVALID_DATASET_FILE")).toBe(true);
    },
    fuzzTimeoutMs(RUNS, 200),
  );

  it(
    "an unzipped folder with one mutated CSV, JPEG or PNG opens and decodes, or throws a declared code, quickly",
    async () => {
      const { parent, remove } = fuzzWorkspace("densedepth-dir");
      const tree = denseDepthFiles();
      const targets = [
        "data/nyu2_train.csv",
        "data/nyu2_test.csv",
        "data/nyu2_train/bedroom_0001_out/1.jpg",
        "data/nyu2_train/bedroom_0001_out/1.png",
        "data/nyu2_test/00000_colors.png",
        "data/nyu2_test/00000_depth.png",
      ];
      const fields = Object.fromEntries(
        targets.filter((name) => name.endsWith(".png")).map((name) => [name, pngFields(tree[name]!)]),
      );
      const outcomes = new Set<string>();
      await fc.assert(
        fc.asyncProperty(mutatedTree(tree, targets, fields), async (input) => {
          const dir = writeTree(parent, tree, input);
          try {
            await property(dir, input, outcomes);
          } finally {
            remove(dir);
          }
        }),
        { seed: fuzzSeed(1732), numRuns: RUNS },
      );
      expect(outcomes.has("ok")).toBe(true);
      expect(outcomes.has("INVALID_DATASET_FILE")).toBe(true);
    },
    fuzzTimeoutMs(RUNS, 200),
  );
});
