import { statSync } from "node:fs";
import { join } from "node:path";
import { checkIndex, datasetError } from "../errors";
import { isDirectory, isFile, readFileOrThrow, readLines, requireDirectory } from "../internal/files";
import { type DatasetLimits, resolveDatasetLimits } from "../limits";
import type { ClassificationDataset, LabeledImage, Split } from "../types";

/** CIFAR-10 class names, used when `batches.meta.txt` is absent. */
export const CIFAR10_CLASSES: readonly string[] = [
  "airplane",
  "automobile",
  "bird",
  "cat",
  "deer",
  "dog",
  "frog",
  "horse",
  "ship",
  "truck",
];

const PIXELS = 32 * 32;
const IMAGE_BYTES = 3 * PIXELS;

/** Where to get the CIFAR binaries, appended to "not found" messages. */
export const CIFAR10_SOURCE =
  "Download and unpack the binary version cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html (folder cifar-10-batches-bin)";
/** Where to get CIFAR-100, appended to "not found" messages. */
export const CIFAR100_SOURCE =
  "Download and unpack the binary version cifar-100-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html (folder cifar-100-binary)";

/** Options of {@link openCifar10}. */
export interface Cifar10Options {
  /** Folder holding `data_batch_1.bin` … `test_batch.bin` (or its parent holding `cifar-10-batches-bin/`). */
  root: string;
  /** `train` (data_batch_1..5, 50 000), `test` (test_batch, 10 000) or `all`. Default `train`. */
  split?: Split;
  /** Check that each file holds the official 10 000 records; default `true`. */
  verifyCounts?: boolean /** Overrides of `DEFAULT_DATASET_LIMITS`: `maxFileBytes` (each `.bin`), `maxTextBytes` (class-name files). */;
  limits?: Partial<DatasetLimits>;
}

/** Options of {@link openCifar100}. */
export interface Cifar100Options {
  /** Folder holding `train.bin`, `test.bin`, `fine_label_names.txt` (or its parent holding `cifar-100-binary/`). */
  root: string;
  /** `train` (50 000), `test` (10 000) or `all`. Default `train`. */
  split?: Split;
  /** Use the 100 fine labels (default) or the 20 coarse superclasses. */
  labels?: "fine" | "coarse";
  /** Check the official counts (50 000 / 10 000); default `true`. */
  verifyCounts?: boolean /** Overrides of `DEFAULT_DATASET_LIMITS`: `maxFileBytes` (each `.bin`), `maxTextBytes` (class-name files). */;
  limits?: Partial<DatasetLimits>;
}

interface RecordFile {
  path: string;
  bytes: Uint8Array;
  count: number;
}

function readRecords(
  path: string,
  recordBytes: number,
  hint: string,
  expected: number | undefined,
  limits: DatasetLimits,
): RecordFile {
  if (!isFile(path)) {
    throw datasetError("DATASET_NOT_FOUND", `missing file ${path}. ${hint}`, path);
  }
  const size = statSync(path).size;
  if (size === 0 || size % recordBytes !== 0) {
    throw datasetError(
      "INVALID_DATASET_FILE",
      `${path}: size ${size} bytes is not a multiple of the ${recordBytes}-byte record size`,
      path,
    );
  }
  const count = size / recordBytes;
  if (expected !== undefined && count !== expected) {
    throw datasetError(
      "INVALID_DATASET_FILE",
      `${path}: the official file holds ${expected} records, this one holds ${count} (pass verifyCounts: false for a partial copy)`,
      path,
    );
  }
  return { path, bytes: readFileOrThrow(path, hint, limits.maxFileBytes), count };
}

function locate(root: string, marker: string, subfolder: string, name: string, hint: string): string {
  const base = requireDirectory(root, name, hint);
  if (isFile(join(base, marker))) return base;
  const nested = join(base, subfolder);
  if (isDirectory(nested)) return nested;
  return base;
}

function splitFiles<T>(split: Split, name: string, train: T[], test: T[]): T[] {
  if (split === "train") return train;
  if (split === "test") return test;
  if (split === "all") return [...train, ...test];
  throw datasetError(
    "INVALID_ARGUMENT",
    `${name}: split must be "train", "test" or "all", got ${JSON.stringify(split)}`,
    "split",
  );
}

/** Converts one CIFAR record's R, G, B planes (32×32 each, row-major) into interleaved HWC RGB. */
function planesToHwc(bytes: Uint8Array, offset: number): Uint8Array {
  const out = new Uint8Array(IMAGE_BYTES);
  for (let p = 0, o = 0; p < PIXELS; p++, o += 3) {
    out[o] = bytes[offset + p]!;
    out[o + 1] = bytes[offset + PIXELS + p]!;
    out[o + 2] = bytes[offset + 2 * PIXELS + p]!;
  }
  return out;
}

function recordDataset(
  name: string,
  split: Split,
  classes: readonly string[],
  files: RecordFile[],
  recordBytes: number,
  labelOffset: number,
): ClassificationDataset {
  const size = files.reduce((sum, file) => sum + file.count, 0);
  const labels = new Uint8Array(size);
  const fileOf = new Uint16Array(size);
  const starts: number[] = [];
  let index = 0;
  files.forEach((file, f) => {
    starts.push(index);
    for (let r = 0; r < file.count; r++, index++) {
      const label = file.bytes[r * recordBytes + labelOffset]!;
      if (label >= classes.length) {
        throw datasetError(
          "INVALID_DATASET_FILE",
          `${file.path}: record ${r} has label ${label}, but there are ${classes.length} classes`,
          file.path,
        );
      }
      labels[index] = label;
      fileOf[index] = f;
    }
  });
  return {
    task: "classification",
    name,
    split,
    size,
    imageShape: [32, 32, 3],
    classes,
    get(i: number): LabeledImage {
      checkIndex(i, size, name);
      const f = fileOf[i]!;
      const record = i - starts[f]!;
      return {
        image: planesToHwc(files[f]!.bytes, record * recordBytes + (recordBytes - IMAGE_BYTES)),
        label: labels[i]!,
      };
    },
    label(i: number): number {
      checkIndex(i, size, name);
      return labels[i]!;
    },
  };
}

/**
 * Opens CIFAR-10 in its binary format: records of 1 label byte + 3 072 bytes (R, G, B planes of 32×32,
 * row-major), 10 000 per file in `data_batch_1.bin` … `data_batch_5.bin` and `test_batch.bin`; class names from
 * `batches.meta.txt` (blank lines ignored) or the official names when that file is absent.
 *
 * @throws KoraError `DATASET_NOT_FOUND` (what is missing and where to get it), `INVALID_DATASET_FILE` (a file
 * whose size is not a multiple of 3 073 bytes, naming it and its size; or wrong counts).
 */
export function openCifar10(options: Cifar10Options): ClassificationDataset {
  const split = options.split ?? "train";
  const limits = resolveDatasetLimits(options.limits);
  const root = locate(options.root, "test_batch.bin", "cifar-10-batches-bin", "cifar10", CIFAR10_SOURCE);
  const names = splitFiles(
    split,
    "cifar10",
    [1, 2, 3, 4, 5].map((b) => `data_batch_${b}.bin`),
    ["test_batch.bin"],
  );
  const expected = options.verifyCounts === false ? undefined : 10_000;
  const files = names.map((file) =>
    readRecords(join(root, file), 1 + IMAGE_BYTES, CIFAR10_SOURCE, expected, limits),
  );
  const metaPath = join(root, "batches.meta.txt");
  const classes = isFile(metaPath)
    ? readLines(metaPath, CIFAR10_SOURCE, limits.maxTextBytes)
    : CIFAR10_CLASSES;
  return recordDataset("cifar10", split, classes, files, 1 + IMAGE_BYTES, 0);
}

/**
 * Opens CIFAR-100 in its binary format: records of 1 coarse label byte + 1 fine label byte + 3 072 pixel bytes
 * (R, G, B planes) in `train.bin` (50 000) and `test.bin` (10 000); class names from `fine_label_names.txt` /
 * `coarse_label_names.txt` (blank lines ignored).
 *
 * @throws KoraError `DATASET_NOT_FOUND`, `INVALID_DATASET_FILE` (see {@link openCifar10}).
 */
export function openCifar100(options: Cifar100Options): ClassificationDataset {
  const split = options.split ?? "train";
  const mode = options.labels ?? "fine";
  if (mode !== "fine" && mode !== "coarse") {
    throw datasetError(
      "INVALID_ARGUMENT",
      `cifar100: labels must be "fine" or "coarse", got ${String(mode)}`,
      "labels",
    );
  }
  const limits = resolveDatasetLimits(options.limits);
  const root = locate(options.root, "test.bin", "cifar-100-binary", "cifar100", CIFAR100_SOURCE);
  const verify = options.verifyCounts !== false;
  const names = splitFiles(
    split,
    "cifar100",
    [["train.bin", 50_000] as const],
    [["test.bin", 10_000] as const],
  );
  const files = names.map(([file, count]) =>
    readRecords(join(root, file), 2 + IMAGE_BYTES, CIFAR100_SOURCE, verify ? count : undefined, limits),
  );
  const classes = readLines(join(root, `${mode}_label_names.txt`), CIFAR100_SOURCE, limits.maxTextBytes);
  const official = mode === "fine" ? 100 : 20;
  if (classes.length !== official) {
    throw datasetError(
      "INVALID_DATASET_FILE",
      `${join(root, `${mode}_label_names.txt`)}: expected ${official} class names, found ${classes.length}`,
      join(root, `${mode}_label_names.txt`),
    );
  }
  return recordDataset("cifar100", split, classes, files, 2 + IMAGE_BYTES, mode === "fine" ? 1 : 0);
}
