import fc from "fast-check";
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
import { openCifar10, openCifar100 } from "./cifar-dataset";

const RUNS = fuzzRuns(250);
const text = (value: string) => new TextEncoder().encode(value);

/** `count` CIFAR records of `labelBytes` label bytes + 3 072 pixel bytes, labels cycling below `classes`. */
function records(count: number, labelBytes: number, classes: number): Uint8Array {
  const size = labelBytes + 3072;
  const out = new Uint8Array(count * size).map((_, i) => (i * 13) % 256);
  for (let r = 0; r < count; r++) for (let k = 0; k < labelBytes; k++) out[r * size + k] = (r + k) % classes;
  return out;
}

/** Both CIFAR layouts in one folder: CIFAR-10's test batch and class list, CIFAR-100's test file and name lists. */
function cifarTree(): Record<string, Uint8Array> {
  const names = (n: number, prefix: string) =>
    text(`${Array.from({ length: n }, (_, i) => `${prefix}${i}`).join("\n")}\n`);
  return {
    "cifar10/test_batch.bin": records(3, 1, 10),
    "cifar10/batches.meta.txt": names(10, "class"),
    "cifar100/test.bin": records(3, 2, 20),
    "cifar100/fine_label_names.txt": names(100, "fine"),
    "cifar100/coarse_label_names.txt": names(20, "coarse"),
  };
}

describe("CIFAR binary reader fuzz", () => {
  it(
    "CIFAR-10 and CIFAR-100 open and decode, or throw a declared KoraError code, quickly, with any file mutated",
    () => {
      const { parent, remove } = fuzzWorkspace("cifar");
      const tree = cifarTree();
      const outcomes = new Set<string>();
      fc.assert(
        fc.property(mutatedTree(tree), (input) => {
          const dir = writeTree(parent, tree, input);
          try {
            const reads = [
              () => openCifar10({ root: `${dir}/cifar10`, split: "test", verifyCounts: false }),
              () => openCifar100({ root: `${dir}/cifar100`, split: "test", verifyCounts: false }),
              () =>
                openCifar100({
                  root: `${dir}/cifar100`,
                  split: "test",
                  labels: "coarse",
                  verifyCounts: false,
                }),
            ];
            for (const open of reads) {
              outcomes.add(
                expectTypedOrSuccess(
                  () => {
                    const dataset = open();
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
        { seed: fuzzSeed(1751), numRuns: RUNS },
      );
      expect(outcomes.has("ok")).toBe(true);
      expect(outcomes.has("INVALID_DATASET_FILE")).toBe(true);
    },
    fuzzTimeoutMs(RUNS, 100),
  );
});
