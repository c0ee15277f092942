import fc from "fast-check";
import jpeg from "jpeg-js";
import { describe, expect, it } from "vitest";
import { expectTypedOrSuccess, fuzzRuns, fuzzSeed, fuzzTimeoutMs } from "../../../../scripts/fuzz";
import {
  describeTree,
  FILE_ERROR_CODES,
  FUZZ_MAX_MS,
  fuzzWorkspace,
  mutatedTree,
  writeTree,
} from "../test-support/fuzz-files";
import { openTinyImageNet } from "./tiny-imagenet-dataset";

const RUNS = fuzzRuns(100);
const text = (value: string) => new TextEncoder().encode(value);

/** A Tiny-ImageNet folder in miniature: 2 classes, 2 train images each, 2 val images, 1 test image. */
function tinyTree(): Record<string, Uint8Array> {
  const image = (shade: number) => {
    const rgba = new Uint8Array(64 * 64 * 4).map((_, i) => (i % 4 === 3 ? 255 : (shade + i) % 256));
    return jpeg.encode({ width: 64, height: 64, data: rgba }, 80).data;
  };
  return {
    "wnids.txt": text("n01443537\nn01629819\n"),
    "words.txt": text("n01443537\tgoldfish, Carassius auratus\nn01629819\tEuropean fire salamander\n"),
    "train/n01443537/images/n01443537_0.JPEG": image(10),
    "train/n01443537/images/n01443537_1.JPEG": image(40),
    "train/n01629819/images/n01629819_0.JPEG": image(90),
    "train/n01629819/images/n01629819_1.JPEG": image(120),
    "val/val_annotations.txt": text(
      "val_0.JPEG\tn01443537\t0\t0\t63\t63\nval_1.JPEG\tn01629819\t1\t2\t40\t50\n",
    ),
    "val/images/val_0.JPEG": image(200),
    "val/images/val_1.JPEG": image(230),
    "test/images/test_0.JPEG": image(7),
  };
}

describe("Tiny-ImageNet reader fuzz (class lists, annotations, JPEGs)", () => {
  it(
    "every split opens and decodes, or throws a declared KoraError code, quickly, with any one file mutated",
    () => {
      const { parent, remove } = fuzzWorkspace("tiny");
      const tree = tinyTree();
      const targets = [
        "wnids.txt",
        "words.txt",
        "val/val_annotations.txt",
        "val/images/val_0.JPEG",
        "train/n01443537/images/n01443537_1.JPEG",
      ];
      const outcomes = new Set<string>();
      fc.assert(
        fc.property(mutatedTree(tree, targets), (input) => {
          const dir = writeTree(parent, tree, input);
          try {
            for (const split of ["train", "val", "test"] as const) {
              outcomes.add(
                expectTypedOrSuccess(
                  () => {
                    const dataset = openTinyImageNet({ root: dir, split, verifyCounts: false });
                    for (let i = 0; i < dataset.size; i++) dataset.get(i);
                  },
                  { codes: FILE_ERROR_CODES, maxMs: FUZZ_MAX_MS, describe: () => describeTree(input) },
                ),
              );
            }
          } finally {
            remove(dir);
          }
        }),
        { seed: fuzzSeed(1741), numRuns: RUNS },
      );
      expect(outcomes.has("ok")).toBe(true);
      expect(outcomes.has("INVALID_DATASET_FILE")).toBe(true);
    },
    fuzzTimeoutMs(RUNS, 300),
  );
});
