import { closeSync, openSync, readSync } from "node:fs";
import { basename, extname, join } from "node:path";
import { checkIndex, datasetError } from "../errors";
import { loadH5Wasm } from "../internal/esm-modules";
import { isDirectory, isFile, readFileOrThrow } from "../internal/files";
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
}

/** A lazily read NYU Depth V2 labelled split; call `close()` to release the file. */
export interface NyuDepthV2Dataset extends DepthDataset {
  /** 1-based frame numbers in the .mat file of the items, in item order. */
  readonly frames: readonly number[];
  /** Closes the HDF5 file. */
  close(): void;
}

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** True when the HDF5 superblock signature is at offset 0, 512, 1024, … (HDF5 allows a user block before it). */
function hasHdf5Signature(path: string): boolean {
  const fd = openSync(path, "r");
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

/** Loads a NYU split file: the toolbox's `splits.mat` (MAT v5) or this package's JSON format. */
export function readNyuSplitFile(path: string): NyuSplitIndices {
  const bytes = readFileOrThrow(path, NYU_LABELED_SOURCE);
  if (extname(path).toLowerCase() === ".json")
    return parseNyuSplitJson(new TextDecoder().decode(bytes), path);
  const variables = readMatV5(bytes, path);
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
    splits = readNyuSplitFile(options.splits);
  } else if (options.splits !== undefined) {
    splits = options.splits;
  } else if (split !== "all") {
    for (const name of ["splits.mat", "nyu_splits.json"]) {
      if (isFile(join(folder, name))) {
        splitSource = join(folder, name);
        splits = readNyuSplitFile(splitSource);
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
  const file = new h5.File(path, "r");
  try {
    const images = file.get("images");
    const depths = file.get("depths");
    if (!(images instanceof h5.Dataset) || !(depths instanceof h5.Dataset)) {
      throw datasetError(
        "INVALID_DATASET_FILE",
        `${path}: expected the datasets "images" and "depths"`,
        path,
      );
    }
    const imageShape = images.shape ?? [];
    const depthShape = depths.shape ?? [];
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
        const rawImage = images.slice([[m, m + 1], [], [], []]) as ArrayLike<number>;
        const rawDepth = depths.slice([[m, m + 1], [], []]) as ArrayLike<number>;
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
          file.close();
        }
      },
    };
  } catch (error) {
    file.close();
    throw error;
  }
}
