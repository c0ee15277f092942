import { closeSync, openSync, readSync } from "node:fs";
import { basename, extname, join } from "node:path";
import { KoraError } from "@kora/spec";
import { checkIndex, datasetError } from "../errors";
import { loadH5Wasm } from "../internal/esm-modules";
import { isDirectory, isFile, readFileOrThrow } from "../internal/files";
import { type DatasetLimits, limitExceeded, resolveDatasetLimits } from "../limits";
import type { DepthDataset, DepthSample, Split } from "../types";
import { readMatV5 } from "./mat-v5";
import {
  NYU_OFFICIAL_SPLIT_SIZES,
  type NyuSplitIndices,
  parseNyuSplitJson,
  validateNyuSplit,
} from "./nyu-splits";

/** Where to get the labelled NYU Depth V2 file, appended to "not found" messages. */
export const NYU_LABELED_SOURCE =
  "Download nyu_depth_v2_labeled.mat (2.8 GB) from https://cs.nyu.edu/~silberman/datasets/nyu_depth_v2.html; the official split is splits.mat from the same page (http://horatio.cs.nyu.edu/mit/silberman/indoor_seg_sup/splits.mat)";

/** Options of {@link openNyuDepthV2}. */
export interface NyuDepthV2Options {
  /** Folder holding `nyu_depth_v2_labeled.mat` (or the path of the .mat file itself). */
  root: string;
  /** `train` / `test` (need a split, see `splits`) or `all` (the 1 449 frames in file order). Default `train`. */
  split?: Split;
  /**
   * The train/test split: indices in memory, or the path of a split file — the toolbox's `splits.mat`
   * (level-5 MAT-file with `trainNdxs` / `testNdxs`) or a JSON file `{ "trainNdxs": [...], "testNdxs": [...] }`
   * (1-based). Default: `splits.mat`, then `nyu_splits.json`, looked up beside the .mat file.
   */
  splits?: NyuSplitIndices | string;
  /** Check the official numbers (1 449 frames of 480×640; split 795 / 654); default `true`. */
  verifyCounts?: boolean;
  /**
   * Overrides of `DEFAULT_DATASET_LIMITS`: `maxImagePixels` (the frame size the file declares), `maxItems` (its
   * frame count), `maxFileBytes` and `maxTextBytes` (the split file).
   */
  limits?: Partial<DatasetLimits>;
}

/** A lazily read NYU Depth V2 labelled split; call `close()` to release the file. */
export interface NyuDepthV2Dataset extends DepthDataset {
  /** 1-based frame numbers in the .mat file of the items, in item order. */
  readonly frames: readonly number[];
  /** Closes the HDF5 file. */
  close(): void;
}

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
/** HDF5 type classes (`H5T_class_t`) of the element types the reader takes. */
const H5T_INTEGER = 0;
const H5T_FLOAT = 1;

/**
 * Runs one call into h5wasm, turning its own errors (HDF5 failures, WASM traps, a `TypeError` from a damaged
 * object) into `INVALID_DATASET_FILE` naming the file: the library's errors never reach the caller untyped.
 */
function h5call<T>(path: string, what: string, call: () => T): T {
  try {
    return call();
  } catch (cause) {
    if (KoraError.isInstance(cause)) throw cause;
    throw datasetError(
      "INVALID_DATASET_FILE",
      `${path}: HDF5 error while ${what} (${cause instanceof Error ? cause.message : String(cause)})`,
      path,
      cause,
    );
  }
}

/** True when the HDF5 superblock signature is at offset 0, 512, 1024, … (HDF5 allows a user block before it). */
function hasHdf5Signature(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (cause) {
    throw datasetError("DATASET_NOT_FOUND", `nyu-depth-v2: cannot open ${path}`, path, cause);
  }
  try {
    const probe = new Uint8Array(8);
    for (let offset = 0; offset <= 1 << 20; offset = offset === 0 ? 512 : offset * 2) {
      if (readSync(fd, probe, 0, 8, offset) < 8) return false;
      if (HDF5_SIGNATURE.every((byte, i) => probe[i] === byte)) return true;
    }
    return false;
  } finally {
    closeSync(fd);
  }
}

/**
 * Loads a NYU split file: the toolbox's `splits.mat` (MAT v5) or this package's JSON format.
 *
 * @param limits - overrides of `DEFAULT_DATASET_LIMITS` (`maxTextBytes` for JSON, `maxFileBytes` for MAT).
 * @throws KoraError `DATASET_NOT_FOUND`, `INVALID_DATASET_FILE`, `LIMIT_EXCEEDED`.
 */
export function readNyuSplitFile(path: string, limits?: Partial<DatasetLimits>): NyuSplitIndices {
  const resolved = resolveDatasetLimits(limits);
  if (extname(path).toLowerCase() === ".json") {
    const text = readFileOrThrow(path, NYU_LABELED_SOURCE, resolved.maxTextBytes, "maxTextBytes");
    return parseNyuSplitJson(new TextDecoder().decode(text), path);
  }
  const bytes = readFileOrThrow(path, NYU_LABELED_SOURCE, resolved.maxFileBytes);
  const variables = readMatV5(bytes, path, resolved);
  const train = variables["trainNdxs"];
  const test = variables["testNdxs"];
  if (train === undefined || test === undefined) {
    throw datasetError(
      "INVALID_DATASET_FILE",
      `${path}: expected the variables trainNdxs and testNdxs`,
      path,
    );
  }
  return { trainNdxs: Array.from(train.data), testNdxs: Array.from(test.data) };
}

/**
 * Opens the labelled NYU Depth V2 set (`nyu_depth_v2_labeled.mat`, MATLAB v7.3 = HDF5 behind a 512-byte user
 * block) with h5wasm, reading one frame per `get` — the 2.8 GB file is never loaded whole. MATLAB's
 * column-major `images` (HDF5 shape [N, 3, 640, 480]) and `depths` ([N, 640, 480]) are transposed to
 * 480×640×3 RGB bytes and 480×640 metres.
 *
 * The official 795 / 654 split index lists are not shipped (see the README): pass `splits` or put the toolbox's
 * `splits.mat` beside the .mat file.
 *
 * @throws KoraError `DATASET_NOT_FOUND`, `INVALID_DATASET_FILE`.
 */
export async function openNyuDepthV2(options: NyuDepthV2Options): Promise<NyuDepthV2Dataset> {
  const split = options.split ?? "train";
  if (split !== "train" && split !== "test" && split !== "all") {
    throw datasetError(
      "INVALID_ARGUMENT",
      `nyu-depth-v2: split must be "train", "test" or "all", got ${JSON.stringify(split)}`,
      "split",
    );
  }
  const verify = options.verifyCounts !== false;
  const limits = resolveDatasetLimits(options.limits);
  const path = isDirectory(options.root) ? join(options.root, "nyu_depth_v2_labeled.mat") : options.root;
  if (!isFile(path)) {
    throw datasetError(
      "DATASET_NOT_FOUND",
      `nyu-depth-v2: missing file ${path}. ${NYU_LABELED_SOURCE}`,
      path,
    );
  }
  if (!hasHdf5Signature(path)) {
    throw datasetError(
      "INVALID_DATASET_FILE",
      `${path}: not a MATLAB v7.3 (HDF5) file; expected nyu_depth_v2_labeled.mat`,
      path,
    );
  }
  const folder = isDirectory(options.root) ? options.root : join(path, "..");
  let splits: NyuSplitIndices | undefined;
  let splitSource = "splits";
  if (typeof options.splits === "string") {
    splitSource = options.splits;
    splits = readNyuSplitFile(options.splits, limits);
  } else if (options.splits !== undefined) {
    splits = options.splits;
  } else if (split !== "all") {
    for (const name of ["splits.mat", "nyu_splits.json"]) {
      if (isFile(join(folder, name))) {
        splitSource = join(folder, name);
        splits = readNyuSplitFile(splitSource, limits);
        break;
      }
    }
    if (splits === undefined) {
      throw datasetError(
        "DATASET_NOT_FOUND",
        `nyu-depth-v2: the ${split} split needs the split indices: put splits.mat (NYU toolbox) or nyu_splits.json ({"trainNdxs": [...], "testNdxs": [...]}, 1-based) in ${folder}, or pass options.splits. ${NYU_LABELED_SOURCE}`,
        folder,
      );
    }
  }

  const h5 = await loadH5Wasm();
  const file = h5call(path, "opening the file", () => new h5.File(path, "r"));
  const closeFile = () => {
    try {
      file.close();
    } catch {
      // Closing a file h5wasm could not open fails again; the error that matters was already thrown.
    }
  };
  try {
    const images = h5call(path, "reading images", () => file.get("images"));
    const depths = h5call(path, "reading depths", () => file.get("depths"));
    if (!(images instanceof h5.Dataset) || !(depths instanceof h5.Dataset)) {
      throw datasetError(
        "INVALID_DATASET_FILE",
        `${path}: expected the datasets "images" and "depths"`,
        path,
      );
    }
    const imageShape = h5call(path, "reading the shape of images", () => images.shape) ?? [];
    const depthShape = h5call(path, "reading the shape of depths", () => depths.shape) ?? [];
    const [n, channels, width, height] = imageShape;
    if (
      imageShape.length !== 4 ||
      channels !== 3 ||
      depthShape.length !== 3 ||
      depthShape[0] !== n ||
      depthShape[1] !== width ||
      depthShape[2] !== height
    ) {
      throw datasetError(
        "INVALID_DATASET_FILE",
        `${path}: expected images [N, 3, W, H] and depths [N, W, H] (MATLAB column-major), got [${imageShape.join(", ")}] and [${depthShape.join(", ")}]`,
        path,
      );
    }
    if (verify && (n !== NYU_OFFICIAL_SPLIT_SIZES.total || width !== 640 || height !== 480)) {
      throw datasetError(
        "INVALID_DATASET_FILE",
        `${path}: the official file holds 1449 frames of 480×640, this one ${n} of ${height}×${width} (pass verifyCounts: false for another file)`,
        path,
      );
    }
    const total = n!;
    const h = height!;
    const w = width!;
    // Checked before any frame is read: get() allocates h × w × 3 bytes and h × w floats, "all" lists every frame.
    if (h * w > limits.maxImagePixels) {
      limitExceeded(
        path,
        `the frame size ${h}×${w} in pixels`,
        h * w,
        "maxImagePixels",
        limits.maxImagePixels,
      );
    }
    if (total > limits.maxItems)
      limitExceeded(path, "the number of frames", total, "maxItems", limits.maxItems);
    // get() has h5wasm allocate a frame's elements × the element size before anything is converted: only plain
    // numbers (integers or floats of at most 8 bytes) are read, not strings or compound elements of any size.
    for (const [name, dataset] of [
      ["images", images],
      ["depths", depths],
    ] as const) {
      const { type, size, vlen } = h5call(path, `reading the type of ${name}`, () => dataset.metadata);
      if ((type !== H5T_INTEGER && type !== H5T_FLOAT) || vlen || !(size >= 1 && size <= 8)) {
        throw datasetError(
          "INVALID_DATASET_FILE",
          `${path}: expected ${name} to hold integers or floats of at most 8 bytes, got HDF5 type class ${type} of ${size} bytes${vlen ? " (variable length)" : ""}`,
          path,
        );
      }
    }
    let frames: number[];
    if (split === "all") {
      frames = Array.from({ length: total }, (_, i) => i + 1);
    } else {
      validateNyuSplit(splits!, total, splitSource, verify);
      frames = [...(split === "train" ? splits!.trainNdxs : splits!.testNdxs)];
    }
    let open = true;
    const size = frames.length;
    return {
      task: "depth",
      name: "nyu-depth-v2",
      split,
      size,
      imageShape: [h, w, 3],
      depthShape: [h, w],
      frames,
      get(index: number): DepthSample {
        checkIndex(index, size, "nyu-depth-v2");
        if (!open)
          throw datasetError("INVALID_ARGUMENT", `nyu-depth-v2: ${basename(path)} was closed`, "close");
        const m = frames[index]! - 1;
        const rawImage = h5call(path, `reading frame ${m + 1} of images`, () =>
          images.slice([[m, m + 1], [], [], []]),
        ) as ArrayLike<number> | null;
        const rawDepth = h5call(path, `reading frame ${m + 1} of depths`, () =>
          depths.slice([[m, m + 1], [], []]),
        ) as ArrayLike<number> | null;
        // A numeric array of the frame's size, nothing else (int64 data reads as BigInts, strings as strings).
        if (
          rawImage?.length !== 3 * h * w ||
          rawDepth?.length !== h * w ||
          typeof rawImage[0] !== "number" ||
          typeof rawDepth[0] !== "number"
        ) {
          throw datasetError(
            "INVALID_DATASET_FILE",
            `${path}: frame ${m + 1} did not read as ${3 * h * w} image and ${h * w} depth values`,
            path,
          );
        }
        const image = new Uint8Array(h * w * 3);
        const depth = new Float32Array(h * w);
        // HDF5 element (c, x, y) of the frame sits at (c·W + x)·H + y; HWC wants (y·W + x)·3 + c.
        for (let x = 0; x < w; x++) {
          for (let y = 0; y < h; y++) {
            const column = x * h + y;
            const o = (y * w + x) * 3;
            image[o] = rawImage[column]!;
            image[o + 1] = rawImage[w * h + column]!;
            image[o + 2] = rawImage[2 * w * h + column]!;
            depth[y * w + x] = rawDepth[column]!;
          }
        }
        return { image, depth };
      },
      close(): void {
        if (open) {
          open = false;
          closeFile();
        }
      },
    };
  } catch (error) {
    closeFile();
    throw error;
  }
}
