import { hashSeed } from "@kora/spec";
import { checkIndex, checkInteger, datasetError } from "../errors";
import type { ClassificationDataset, LabeledImage, Split } from "../types";
import { SYNTHETIC_DOMAINS, type SyntheticDomain } from "./domains";
import { renderSyntheticImage } from "./render";
import { SYNTHETIC_SHAPES, SYNTHETIC_TEXTURES } from "./shapes";

/** Names of the synthetic classification suites. */
export type SyntheticSuiteName = "synthetic-pretrain" | "synthetic-source" | "synthetic-target";

/** Options of {@link openSyntheticDataset}. */
export interface SyntheticDatasetOptions {
  /** `train`, `test` or `all` (train then test). Default `train`. */
  split?: Split;
  /** Seed of the whole suite; the same seed gives the same images. Default `0`. */
  seed?: number;
  /** Image side in pixels; default 32. */
  imageSize?: number;
  /** Number of training items (default: 50 000 for pretrain, 10 000 for source/target). */
  trainSize?: number;
  /** Number of test items (default: 10 000 for pretrain, 2 000 for source/target). */
  testSize?: number;
}

/** What a synthetic suite is made of. */
export interface SyntheticSuiteInfo {
  /** Rendering domain. */
  domain: SyntheticDomain;
  /** Global class ids (`shape × 10 + texture`) of the suite's classes, in label order. */
  classIds: readonly number[];
  /** Default train / test sizes. */
  trainSize: number;
  /** Default test size. */
  testSize: number;
}

const ALL_CLASSES = Array.from({ length: 100 }, (_, id) => id);

/**
 * The suites. Classes are shape × texture (100 in all). "pretrain" has all 100 in the broad domain; "source" has
 * the 50 classes with (shape + texture) even in the clean domain; "target" the other 50 — new combinations of
 * the same primitives — in the shifted domain.
 */
export const SYNTHETIC_SUITES: Readonly<Record<SyntheticSuiteName, SyntheticSuiteInfo>> = {
  "synthetic-pretrain": { domain: "pretrain", classIds: ALL_CLASSES, trainSize: 50_000, testSize: 10_000 },
  "synthetic-source": {
    domain: "source",
    classIds: ALL_CLASSES.filter((id) => (Math.floor(id / 10) + (id % 10)) % 2 === 0),
    trainSize: 10_000,
    testSize: 2_000,
  },
  "synthetic-target": {
    domain: "target",
    classIds: ALL_CLASSES.filter((id) => (Math.floor(id / 10) + (id % 10)) % 2 === 1),
    trainSize: 10_000,
    testSize: 2_000,
  },
};

/** Name of global class `id` (`"star/checker"`). */
export function syntheticClassName(id: number): string {
  checkInteger(id, "class id", 0, 99);
  return `${SYNTHETIC_SHAPES[Math.floor(id / 10)]}/${SYNTHETIC_TEXTURES[id % 10]}`;
}

/**
 * Opens a procedural synthetic suite (no files needed). Item `i` has label `i mod classes` (exactly balanced)
 * and is rendered from a seed derived from `(seed, suite, split, i)`, so any item is produced in O(1) and the
 * same options always give the same bytes. Runs anywhere (no node: imports).
 *
 * @throws KoraError `INVALID_ARGUMENT` for an unknown suite or bad sizes.
 */
export function openSyntheticDataset(
  name: SyntheticSuiteName,
  options: SyntheticDatasetOptions = {},
): ClassificationDataset {
  const suite = SYNTHETIC_SUITES[name];
  if (suite === undefined) {
    throw datasetError("INVALID_ARGUMENT", `unknown synthetic suite ${JSON.stringify(name)}`, "name");
  }
  const split = options.split ?? "train";
  if (split !== "train" && split !== "test" && split !== "all") {
    throw datasetError(
      "INVALID_ARGUMENT",
      `${name}: split must be "train", "test" or "all", got ${JSON.stringify(split)}`,
      "split",
    );
  }
  const seed = options.seed ?? 0;
  if (!Number.isFinite(seed))
    throw datasetError("INVALID_ARGUMENT", `${name}: seed must be a finite number`, "seed");
  const imageSize = options.imageSize ?? 32;
  checkInteger(imageSize, "imageSize", 8, 1024);
  const trainSize = options.trainSize ?? suite.trainSize;
  const testSize = options.testSize ?? suite.testSize;
  checkInteger(trainSize, "trainSize", 0);
  checkInteger(testSize, "testSize", 0);
  const size = split === "train" ? trainSize : split === "test" ? testSize : trainSize + testSize;
  const numClasses = suite.classIds.length;
  const style = SYNTHETIC_DOMAINS[suite.domain];
  const locate = (index: number): [part: "train" | "test", local: number] =>
    split === "test" ? ["test", index] : index < trainSize ? ["train", index] : ["test", index - trainSize];
  const labelOf = (index: number) => locate(index)[1] % numClasses;
  return {
    task: "classification",
    name,
    split,
    size,
    imageShape: [imageSize, imageSize, 3],
    classes: suite.classIds.map(syntheticClassName),
    get(index: number): LabeledImage {
      checkIndex(index, size, name);
      const [part, local] = locate(index);
      const label = local % numClasses;
      const id = suite.classIds[label]!;
      const image = renderSyntheticImage({
        shape: Math.floor(id / 10),
        texture: id % 10,
        style,
        seed: hashSeed(seed, name, part, local),
        size: imageSize,
      });
      return { image, label };
    },
    label(index: number): number {
      checkIndex(index, size, name);
      return labelOf(index);
    },
  };
}
