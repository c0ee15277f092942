import { readdirSync } from "node:fs";
import { join } from "node:path";
import { checkIndex, datasetError } from "../errors";
import {
  isDirectory,
  isFile,
  readFileOrThrow,
  readLines,
  requireDirectory,
  resolveInside,
} from "../internal/files";
import { decodeJpegRgb } from "../internal/jpeg";
import { type DatasetLimits, resolveDatasetLimits } from "../limits";
import type { ClassificationDataset, LabeledImage, Split } from "../types";

/** Where to get Tiny-ImageNet-200, appended to "not found" messages. */
export const TINY_IMAGENET_SOURCE =
  "Download and unzip tiny-imagenet-200.zip from http://cs231n.stanford.edu/tiny-imagenet-200.zip (the Stanford CS231n course page)";

/** Options of {@link openTinyImageNet}. */
export interface TinyImageNetOptions {
  /** The `tiny-imagenet-200` folder (or its parent). */
  root: string;
  /** `train` (100 000), `val` (10 000, labelled by `val/val_annotations.txt`), `test` (10 000, unlabelled: label -1). */
  split?: Split;
  /** Check the official counts (200 classes; 100 000 / 10 000 / 10 000 images); default `true`. */
  verifyCounts?: boolean;
  /**
   * Overrides of `DEFAULT_DATASET_LIMITS`: `maxTextBytes` (`wnids.txt`, `words.txt`, `val_annotations.txt`),
   * `maxFileBytes` and `maxImagePixels` (each JPEG).
   */
  limits?: Partial<DatasetLimits>;
}

/** A Tiny-ImageNet split, with the WordNet ids of its classes. */
export interface TinyImageNetDataset extends ClassificationDataset {
  /** WordNet ids in label order (`wnids.txt`). */
  readonly wnids: readonly string[];
  /** Absolute path of the JPEG behind item `index`. */
  file(index: number): string;
}

const OFFICIAL = { classes: 200, train: 100_000, val: 10_000, test: 10_000 } as const;

const byNaturalOrder = (a: string, b: string) => a.localeCompare(b, "en", { numeric: true });

/**
 * Opens Tiny-ImageNet-200 as unpacked from the official zip: `wnids.txt` (order = class index), `words.txt`
 * (class names), `train/<wnid>/images/*.JPEG`, `val/val_annotations.txt` + `val/images`, `test/images`.
 * Images are decoded with jpeg-js on `get`; grayscale JPEGs come out as RGB (the gray value in all channels).
 * File names taken from annotation files that would leave the dataset folder (`../`, absolute paths) are rejected.
 *
 * @throws KoraError `DATASET_NOT_FOUND`, `INVALID_DATASET_FILE`.
 */
export function openTinyImageNet(options: TinyImageNetOptions): TinyImageNetDataset {
  const split = options.split ?? "train";
  if (split !== "train" && split !== "val" && split !== "test") {
    throw datasetError(
      "INVALID_ARGUMENT",
      `tiny-imagenet: split must be "train", "val" or "test", got ${JSON.stringify(split)}`,
      "split",
    );
  }
  const limits = resolveDatasetLimits(options.limits);
  let root = requireDirectory(options.root, "tiny-imagenet", TINY_IMAGENET_SOURCE);
  if (!isFile(join(root, "wnids.txt")) && isDirectory(join(root, "tiny-imagenet-200"))) {
    root = join(root, "tiny-imagenet-200");
  }
  const verify = options.verifyCounts !== false;
  const wnidsPath = join(root, "wnids.txt");
  const wnids = readLines(wnidsPath, TINY_IMAGENET_SOURCE, limits.maxTextBytes);
  if (verify && wnids.length !== OFFICIAL.classes) {
    throw datasetError(
      "INVALID_DATASET_FILE",
      `${wnidsPath}: the official file lists ${OFFICIAL.classes} classes, this one ${wnids.length} (pass verifyCounts: false for a subset)`,
      wnidsPath,
    );
  }
  const labelOf = new Map<string, number>();
  wnids.forEach((wnid, label) => {
    if (labelOf.has(wnid)) {
      throw datasetError("INVALID_DATASET_FILE", `${wnidsPath}: ${wnid} is listed twice`, wnidsPath);
    }
    labelOf.set(wnid, label);
  });
  const names = new Map<string, string>();
  const wordsPath = join(root, "words.txt");
  if (isFile(wordsPath)) {
    for (const line of readLines(wordsPath, TINY_IMAGENET_SOURCE, limits.maxTextBytes)) {
      const tab = line.indexOf("\t");
      if (tab > 0 && labelOf.has(line.slice(0, tab)))
        names.set(line.slice(0, tab), line.slice(tab + 1).trim());
    }
  }
  const classes = wnids.map((wnid) => names.get(wnid) ?? wnid);

  const files: string[] = [];
  const labels: number[] = [];
  if (split === "train") {
    wnids.forEach((wnid, label) => {
      const folder = join(resolveInside(join(root, "train"), wnid, wnidsPath), "images");
      if (!isDirectory(folder)) {
        throw datasetError(
          "DATASET_NOT_FOUND",
          `tiny-imagenet: missing folder ${folder}. ${TINY_IMAGENET_SOURCE}`,
          folder,
        );
      }
      for (const name of readdirSync(folder)
        .filter((n) => /\.jpe?g$/i.test(n))
        .sort(byNaturalOrder)) {
        files.push(join(folder, name));
        labels.push(label);
      }
    });
  } else if (split === "val") {
    const annotations = join(root, "val", "val_annotations.txt");
    const images = join(root, "val", "images");
    readLines(annotations, TINY_IMAGENET_SOURCE, limits.maxTextBytes).forEach((line, row) => {
      const [name, wnid] = line.split("\t");
      if (name === undefined || wnid === undefined) {
        throw datasetError(
          "INVALID_DATASET_FILE",
          `${annotations}: line ${row + 1} is not "<file>\\t<wnid>\\t…"`,
          annotations,
        );
      }
      const label = labelOf.get(wnid);
      if (label === undefined) {
        throw datasetError(
          "INVALID_DATASET_FILE",
          `${annotations}: line ${row + 1}: ${wnid} is not in wnids.txt`,
          annotations,
        );
      }
      files.push(resolveInside(images, name, annotations));
      labels.push(label);
    });
  } else {
    const folder = join(root, "test", "images");
    if (!isDirectory(folder)) {
      throw datasetError(
        "DATASET_NOT_FOUND",
        `tiny-imagenet: missing folder ${folder}. ${TINY_IMAGENET_SOURCE}`,
        folder,
      );
    }
    for (const name of readdirSync(folder)
      .filter((n) => /\.jpe?g$/i.test(n))
      .sort(byNaturalOrder)) {
      files.push(join(folder, name));
      labels.push(-1);
    }
  }
  if (verify && files.length !== OFFICIAL[split]) {
    throw datasetError(
      "INVALID_DATASET_FILE",
      `tiny-imagenet: the official ${split} split has ${OFFICIAL[split]} images, ${root} has ${files.length} (pass verifyCounts: false for a subset)`,
      root,
    );
  }
  const size = files.length;
  return {
    task: "classification",
    name: "tiny-imagenet",
    split,
    size,
    imageShape: [64, 64, 3],
    classes,
    wnids,
    file(index: number): string {
      checkIndex(index, size, "tiny-imagenet");
      return files[index]!;
    },
    get(index: number): LabeledImage {
      checkIndex(index, size, "tiny-imagenet");
      const path = files[index]!;
      const bytes = readFileOrThrow(path, TINY_IMAGENET_SOURCE, limits.maxFileBytes);
      return { image: decodeJpegRgb(bytes, path, 64, 64, limits.maxImagePixels), label: labels[index]! };
    },
    label(index: number): number {
      checkIndex(index, size, "tiny-imagenet");
      return labels[index]!;
    },
  };
}
