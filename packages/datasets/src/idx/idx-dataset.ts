import { datasetError } from "../errors";
import { concatBytes, createArrayDataset } from "../internal/array-dataset";
import { firstExisting, readFileOrThrow, requireDirectory } from "../internal/files";
import { inflateCapped, inflatePrefix } from "../internal/inflate";
import { type DatasetLimits, limitExceeded, resolveDatasetLimits } from "../limits";
import type { ClassificationDataset, Split } from "../types";
import { type IdxArray, parseIdx, readIdxHeader } from "./parse-idx";

/** Where the Debian package `dataset-fashion-mnist` installs Fashion-MNIST; used when no `root` is given. */
export const FASHION_MNIST_DEFAULT_ROOT = "/usr/share/datasets/fashion-mnist";

/** Fashion-MNIST class names in label order (Xiao et al. 2017). */
export const FASHION_MNIST_CLASSES: readonly string[] = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
];

/** MNIST class names ("0" … "9"). */
export const MNIST_CLASSES: readonly string[] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

/** Compressed bytes inflated first to read the IDX header of a `.gz` file (gzip headers are short). */
const GZIP_HEADER_PROBE = 16 * 1024;

/**
 * Reads an IDX file (MNIST format), gunzipping it first when it starts with the gzip magic `1f 8b`. A gzip file
 * is inflated in two steps: its start, to read the IDX header and check the size it declares against
 * `limits.maxFileBytes`, then the whole stream with its output capped at that size, so a decompression bomb
 * costs no more memory than the file it claims to be.
 *
 * @param limits - overrides of `DEFAULT_DATASET_LIMITS` (`maxFileBytes`, and `maxInflateRatio` for a `.gz`).
 * @throws KoraError `DATASET_NOT_FOUND` when the file is missing, `INVALID_DATASET_FILE` when it is malformed,
 * `LIMIT_EXCEEDED` when it (or what it declares) is larger than `limits.maxFileBytes`, or a `.gz` declares more
 * than `limits.maxInflateRatio` times its own size.
 */
export function readIdxFile(path: string, limits?: Partial<DatasetLimits>): IdxArray {
  const { maxFileBytes, maxInflateRatio } = resolveDatasetLimits(limits);
  let bytes = readFileOrThrow(
    path,
    "Expected an IDX file (MNIST format, optionally gzip-compressed).",
    maxFileBytes,
  );
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    const header = readIdxHeader(inflatePrefix("gzip", bytes, GZIP_HEADER_PROBE, path), path);
    if (header.expectedBytes > maxFileBytes) {
      limitExceeded(
        path,
        `the size its IDX header declares (shape [${header.shape.join(", ")}], bytes)`,
        header.expectedBytes,
        "maxFileBytes",
        maxFileBytes,
      );
    }
    bytes = inflateCapped("gzip", bytes, path, "the gzip stream", {
      max: maxFileBytes,
      maxRatio: maxInflateRatio,
      limit: "maxFileBytes",
      declared: header.expectedBytes,
    });
  }
  return parseIdx(bytes, path);
}

/** Options of {@link openIdxDataset}. */
export interface IdxDatasetOptions {
  /** Registry name used in messages and on the dataset (`"fashion-mnist"`, `"mnist"`). */
  name: string;
  /** Folder holding `train-images-idx3-ubyte[.gz]`, `train-labels-idx1-ubyte[.gz]`, `t10k-*` files. */
  root: string;
  /** `train` (60 000 official), `test` (10 000) or `all` (train then test). */
  split: Split;
  /** Class names in label order. */
  classes: readonly string[];
  /** Where to get the files, appended to "not found" messages. */
  hint: string;
  /**
   * Check the official counts (60 000 train / 10 000 test). Default `true`; set `false` for a custom IDX
   * dataset of another size.
   */
  verifyCounts?: boolean;
  /** Overrides of `DEFAULT_DATASET_LIMITS` (`maxFileBytes` and, for `.gz` files, `maxInflateRatio`). */
  limits?: Partial<DatasetLimits>;
}

const OFFICIAL_COUNTS = { train: 60_000, t10k: 10_000 } as const;

function fileCandidates(prefix: string, kind: "images" | "labels"): string[] {
  const dims = kind === "images" ? "idx3" : "idx1";
  const names = [`${prefix}-${kind}-${dims}-ubyte`, `${prefix}-${kind}.${dims}-ubyte`];
  return names.flatMap((name) => [`${name}.gz`, name]);
}

function readPart(options: IdxDatasetOptions, root: string, prefix: "train" | "t10k") {
  const find = (kind: "images" | "labels") => {
    const candidates = fileCandidates(prefix, kind);
    const path = firstExisting(root, candidates);
    if (path === undefined) {
      throw datasetError(
        "DATASET_NOT_FOUND",
        `${options.name}: none of ${candidates.join(", ")} found in ${root}. ${options.hint}`,
        root,
      );
    }
    return path;
  };
  const imagesPath = find("images");
  const labelsPath = find("labels");
  const images = readIdxFile(imagesPath, options.limits);
  const labels = readIdxFile(labelsPath, options.limits);
  if (images.dtype !== "uint8" || images.shape.length !== 3) {
    throw datasetError(
      "INVALID_DATASET_FILE",
      `${imagesPath}: expected a uint8 image file with 3 dimensions (magic 2051), got ${images.dtype} [${images.shape.join(", ")}]`,
      imagesPath,
    );
  }
  if (labels.dtype !== "uint8" || labels.shape.length !== 1) {
    throw datasetError(
      "INVALID_DATASET_FILE",
      `${labelsPath}: expected a uint8 label file with 1 dimension (magic 2049), got ${labels.dtype} [${labels.shape.join(", ")}]`,
      labelsPath,
    );
  }
  if (images.shape[0] !== labels.shape[0]) {
    throw datasetError(
      "INVALID_DATASET_FILE",
      `${options.name}: ${imagesPath} holds ${images.shape[0]} images but ${labelsPath} holds ${labels.shape[0]} labels`,
      labelsPath,
    );
  }
  if ((options.verifyCounts ?? true) && images.shape[0] !== OFFICIAL_COUNTS[prefix]) {
    throw datasetError(
      "INVALID_DATASET_FILE",
      `${imagesPath}: the official ${prefix} split has ${OFFICIAL_COUNTS[prefix]} images, this file has ${images.shape[0]} (pass verifyCounts: false for a custom IDX dataset)`,
      imagesPath,
    );
  }
  for (let i = 0; i < labels.data.length; i++) {
    if (labels.data[i]! >= options.classes.length) {
      throw datasetError(
        "INVALID_DATASET_FILE",
        `${labelsPath}: label ${labels.data[i]} at index ${i} is not below the ${options.classes.length} classes`,
        labelsPath,
      );
    }
  }
  return {
    images: images.data as Uint8Array,
    labels: labels.data as Uint8Array,
    h: images.shape[1]!,
    w: images.shape[2]!,
  };
}

/**
 * Opens an IDX image-classification dataset (MNIST layout) from `root`. Images are grayscale: `imageShape`
 * is `[28, 28, 1]` for (Fashion-)MNIST.
 *
 * @throws KoraError `DATASET_NOT_FOUND` (folder or file missing), `INVALID_DATASET_FILE` (format or counts).
 */
export function openIdxDataset(options: IdxDatasetOptions): ClassificationDataset {
  const root = requireDirectory(options.root, options.name, options.hint);
  const prefixes: ("train" | "t10k")[] =
    options.split === "train"
      ? ["train"]
      : options.split === "test"
        ? ["t10k"]
        : options.split === "all"
          ? ["train", "t10k"]
          : [];
  if (prefixes.length === 0) {
    throw datasetError(
      "INVALID_ARGUMENT",
      `${options.name}: split must be "train", "test" or "all", got ${JSON.stringify(options.split)}`,
      "split",
    );
  }
  const parts = prefixes.map((prefix) => readPart(options, root, prefix));
  const first = parts[0]!;
  for (const part of parts) {
    if (part.h !== first.h || part.w !== first.w) {
      throw datasetError(
        "INVALID_DATASET_FILE",
        `${options.name}: train and test images differ in size`,
        root,
      );
    }
  }
  return createArrayDataset({
    name: options.name,
    split: options.split,
    classes: options.classes,
    imageShape: [first.h, first.w, 1],
    images: parts.length === 1 ? first.images : concatBytes(parts.map((p) => p.images)),
    labels: parts.length === 1 ? first.labels : concatBytes(parts.map((p) => p.labels)),
  });
}
