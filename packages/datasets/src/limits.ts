import { datasetError } from "./errors";

/**
 * Caps on what a dataset file may make a reader allocate. Every reader checks declared sizes (image dimensions,
 * element counts, a zip entry's or a gzip stream's uncompressed size) against these *before* allocating, and
 * stops a decompression as soon as it passes its cap, so hostile or damaged files fail fast with
 * `LIMIT_EXCEEDED` instead of exhausting memory. The defaults hold every supported dataset with a wide margin;
 * raise one (the `limits` option of each opener) for a genuine file that is larger.
 */
export interface DatasetLimits {
  /**
   * Largest file, zip entry or decompressed stream (an IDX `.gz`, a MAT `miCOMPRESSED` element) held in memory at
   * once, in bytes. Default 1 GiB (the largest supported file read whole, CIFAR-100's `train.bin`, is 154 MB; an
   * IDX file of EMNIST's 698 k images is 547 MB).
   */
  maxFileBytes: number;
  /**
   * Largest text file read whole (class lists, `val_annotations.txt`, DenseDepth's CSVs), in bytes. Default
   * 64 MiB (the largest, DenseDepth's `nyu2_train.csv`, is about 4 MB).
   */
  maxTextBytes: number;
  /**
   * Largest image decoded, in pixels (width × height), read from the PNG / JPEG / HDF5 header before decoding.
   * Default 16 777 216 (4096 × 4096; NYU frames are 640 × 480).
   */
  maxImagePixels: number;
  /** Most items (frames) a dataset file may declare. Default 10 000 000 (NYU's labelled file has 1 449). */
  maxItems: number;
  /**
   * Largest decompression ratio (uncompressed ÷ compressed bytes) of a compressed stream (an IDX `.gz` file, a
   * deflated zip entry, a MAT `miCOMPRESSED` element): one may inflate to at most `maxInflateRatio` × its
   * compressed size, or 1 MiB when that is more, so a bomb costs memory in proportion to its own size, not just up
   * to `maxFileBytes`. Default 200: real files stay under 20 : 1 (Fashion-MNIST's `.gz` files 1.8–2 : 1, MNIST's
   * about 5 : 1, DenseDepth's CSVs at most about 16 : 1, `splits.mat` about 5 : 1, images about 1 : 1), while
   * deflate's ceiling is about 1032 : 1 and megabytes of zeros compress 1000–1030 : 1, so a cap near the ceiling
   * (1000, say) would let nearly every bomb through. A genuine file of nearly constant data (an all-zero IDX file
   * over 1 MiB) needs it raised.
   */
  maxInflateRatio: number;
}

/**
 * @internal What any compressed stream may inflate to whatever its ratio (1 MiB): small files (a short label
 * list, a tiny CSV) can compress far better than large ones, and a megabyte is no threat.
 */
export const INFLATE_RATIO_FLOOR = 1 << 20;

/** The default {@link DatasetLimits}. */
export const DEFAULT_DATASET_LIMITS: Readonly<DatasetLimits> = Object.freeze({
  maxFileBytes: 1 << 30,
  maxTextBytes: 64 << 20,
  maxImagePixels: 4096 * 4096,
  maxItems: 10_000_000,
  maxInflateRatio: 200,
});

/**
 * The defaults with `overrides` applied.
 *
 * @throws KoraError `INVALID_ARGUMENT` for an override that is not a positive safe integer.
 */
export function resolveDatasetLimits(overrides?: Partial<DatasetLimits>): DatasetLimits {
  const limits = { ...DEFAULT_DATASET_LIMITS };
  for (const key of Object.keys(DEFAULT_DATASET_LIMITS) as (keyof DatasetLimits)[]) {
    const value = overrides?.[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 1) {
      throw datasetError(
        "INVALID_ARGUMENT",
        `limits.${key} must be a positive integer, got ${String(value)}`,
        `limits.${key}`,
      );
    }
    limits[key] = value;
  }
  return limits;
}

/** @internal The `LIMIT_EXCEEDED` error: `source` declares `what` = `actual`, over `limits[name]`. */
export function limitExceeded(
  source: string,
  what: string,
  actual: number,
  name: keyof DatasetLimits,
  limit: number,
): never {
  throw datasetError(
    "LIMIT_EXCEEDED",
    `${source}: ${what} is ${actual}, over the limit ${name} = ${limit} (raise limits.${name} if the file is genuine)`,
    source,
  );
}
