import { datasetError } from "../errors";

/** The NYU Depth V2 train/test split as 1-based indices into the 1 449 labelled frames (as in `splits.mat`). */
export interface NyuSplitIndices {
  /** 1-based indices of the training frames (795 in the official split). */
  trainNdxs: readonly number[];
  /** 1-based indices of the test frames (654 in the official split). */
  testNdxs: readonly number[];
}

/** Official split sizes. */
export const NYU_OFFICIAL_SPLIT_SIZES = { train: 795, test: 654, total: 1449 } as const;

/**
 * Checks a split: integers in `[1, total]`, no duplicates, train and test disjoint; with `official`, also the
 * official sizes 795 / 654 covering all 1 449 frames.
 *
 * @throws KoraError `INVALID_DATASET_FILE` naming `source`.
 */
export function validateNyuSplit(
  split: NyuSplitIndices,
  total: number,
  source: string,
  official: boolean,
): void {
  const seen = new Set<number>();
  for (const [name, list] of [
    ["trainNdxs", split.trainNdxs],
    ["testNdxs", split.testNdxs],
  ] as const) {
    if (!Array.isArray(list)) {
      throw datasetError(
        "INVALID_DATASET_FILE",
        `${source}: ${name} must be an array of 1-based indices`,
        source,
      );
    }
    for (const value of list) {
      if (!Number.isInteger(value) || value < 1 || value > total) {
        throw datasetError(
          "INVALID_DATASET_FILE",
          `${source}: ${name} holds ${value}, not an index in [1, ${total}]`,
          source,
        );
      }
      if (seen.has(value)) {
        throw datasetError("INVALID_DATASET_FILE", `${source}: index ${value} appears twice`, source);
      }
      seen.add(value);
    }
  }
  if (
    official &&
    (split.trainNdxs.length !== NYU_OFFICIAL_SPLIT_SIZES.train ||
      split.testNdxs.length !== NYU_OFFICIAL_SPLIT_SIZES.test)
  ) {
    throw datasetError(
      "INVALID_DATASET_FILE",
      `${source}: the official split has 795 train / 654 test frames, this one ${split.trainNdxs.length} / ${split.testNdxs.length} (pass verifyCounts: false for another split)`,
      source,
    );
  }
}

/**
 * Parses the split file format of this package: JSON `{ "trainNdxs": [1-based…], "testNdxs": [1-based…] }`
 * (the variable names and 1-based convention of the NYU toolbox's `splits.mat`).
 */
export function parseNyuSplitJson(text: string, source: string): NyuSplitIndices {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw datasetError("INVALID_DATASET_FILE", `${source}: not valid JSON`, source, cause);
  }
  const record = value as Partial<Record<"trainNdxs" | "testNdxs", unknown>>;
  if (
    typeof value !== "object" ||
    value === null ||
    !Array.isArray(record.trainNdxs) ||
    !Array.isArray(record.testNdxs)
  ) {
    throw datasetError(
      "INVALID_DATASET_FILE",
      `${source}: expected { "trainNdxs": [...], "testNdxs": [...] } with 1-based frame indices`,
      source,
    );
  }
  return { trainNdxs: record.trainNdxs as number[], testNdxs: record.testNdxs as number[] };
}
