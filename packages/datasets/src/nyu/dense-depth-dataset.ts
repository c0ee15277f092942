import { join } from "node:path";
import { checkIndex, datasetError } from "../errors";
import { loadFastPng } from "../internal/esm-modules";
import { checkRelativeName, isDirectory, isFile, readFileOrThrow, resolveInside } from "../internal/files";
import { decodeJpegRgb } from "../internal/jpeg";
import { decodePng, type PngImage, pngToRgb } from "../internal/png";
import { ZipArchive } from "../internal/zip-archive";
import { type DatasetLimits, resolveDatasetLimits } from "../limits";
import type { DepthDataset, DepthSample, Split } from "../types";

/** Where to get DenseDepth's NYU data, appended to "not found" messages. */
export const DENSE_DEPTH_SOURCE =
  "Download nyu_data.zip (4.1 GB) as linked from https://github.com/ialhashim/DenseDepth (the NYU Depth V2 subset used by DenseDepth); it may stay zipped";

/** Options of {@link openDenseDepthNyu}. */
export interface DenseDepthNyuOptions {
  /** `nyu_data.zip`, a folder holding it, or the folder it was unzipped into (holding `data/nyu2_train.csv`). */
  root: string;
  /** `train` (`data/nyu2_train.csv`, 50 688 pairs) or `test` (`data/nyu2_test.csv`, 654 pairs). Default `train`. */
  split?: Split;
  /** Check the official counts; default `true`. */
  verifyCounts?: boolean;
  /**
   * Overrides of `DEFAULT_DATASET_LIMITS`: `maxTextBytes` (the CSV), `maxFileBytes` (each image file or zip
   * entry), `maxInflateRatio` (each deflated zip entry), `maxImagePixels` (each decoded image).
   */
  limits?: Partial<DatasetLimits>;
}

/** A DenseDepth split; call `close()` to release the zip file. */
export interface DenseDepthNyuDataset extends DepthDataset {
  /** The `[rgb, depth]` paths of item `index`, as written in the CSV. */
  pair(index: number): readonly [string, string];
  /** Closes the archive (no-op for an unzipped folder). */
  close(): void;
}

const OFFICIAL = { train: 50_688, test: 654 } as const;

/**
 * Converts a DenseDepth depth PNG to metres: 16-bit PNGs (the test split) hold millimetres; 8-bit PNGs (the train
 * split) hold `depth / 10 m × 255`, so metres = value × 10 / 255. A 0 stays 0 (no depth).
 */
export function denseDepthPngToMetres(image: PngImage, source: string): Float32Array {
  if (image.channels !== 1 && image.channels !== 3 && image.channels !== 4) {
    throw datasetError("INVALID_DATASET_FILE", `${source}: expected a single-channel depth PNG`, source);
  }
  const pixels = image.width * image.height;
  const out = new Float32Array(pixels);
  const scale = image.depth === 16 ? 1 / 1000 : 10 / 255;
  for (let p = 0; p < pixels; p++) out[p] = image.data[p * image.channels]! * scale;
  return out;
}

/**
 * Opens DenseDepth's NYU Depth V2 layout (`nyu_data.zip`): `data/nyu2_train.csv` / `data/nyu2_test.csv` list
 * `rgb,depth` path pairs (train: JPEG + 8-bit PNG; test: PNG + 16-bit PNG in mm). Reads straight from the zip
 * (ZIP64) or from the unzipped folder; paths in the CSV may not leave the dataset root. Sizes are checked
 * against `options.limits` before anything is inflated or decoded.
 *
 * @throws KoraError `DATASET_NOT_FOUND`, `INVALID_DATASET_FILE`, `LIMIT_EXCEEDED`.
 */
export async function openDenseDepthNyu(options: DenseDepthNyuOptions): Promise<DenseDepthNyuDataset> {
  const split = options.split ?? "train";
  if (split !== "train" && split !== "test") {
    throw datasetError(
      "INVALID_ARGUMENT",
      `nyu-depth-v2 (DenseDepth): split must be "train" or "test", got ${JSON.stringify(split)}`,
      "split",
    );
  }
  const limits = resolveDatasetLimits(options.limits);
  const png = await loadFastPng();
  const csvName = `data/nyu2_${split}.csv`;
  let read: (name: string, maxBytes?: number, limit?: keyof DatasetLimits) => Uint8Array;
  let close = () => {};
  let where: string;
  const zipPath = isFile(options.root) ? options.root : join(options.root, "nyu_data.zip");
  if (isDirectory(options.root) && isFile(join(options.root, csvName))) {
    const root = options.root;
    where = root;
    read = (name, maxBytes = limits.maxFileBytes, limit = "maxFileBytes") =>
      readFileOrThrow(resolveInside(root, name, join(root, csvName)), DENSE_DEPTH_SOURCE, maxBytes, limit);
  } else if (isFile(zipPath)) {
    const archive = ZipArchive.open(zipPath);
    where = zipPath;
    read = (name, maxBytes = limits.maxFileBytes, limit = "maxFileBytes") =>
      archive.read(name, maxBytes, limit, limits.maxInflateRatio);
    close = () => archive.close();
    if (!archive.has(csvName)) {
      archive.close();
      throw datasetError(
        "INVALID_DATASET_FILE",
        `${zipPath}: no ${csvName} inside (not DenseDepth's nyu_data.zip?)`,
        zipPath,
      );
    }
  } else {
    throw datasetError(
      "DATASET_NOT_FOUND",
      `nyu-depth-v2 (DenseDepth): neither ${join(options.root, csvName)} nor ${zipPath} exists. ${DENSE_DEPTH_SOURCE}`,
      options.root,
    );
  }
  try {
    const pairs: [string, string][] = [];
    const lines = new TextDecoder().decode(read(csvName, limits.maxTextBytes, "maxTextBytes")).split(/\r?\n/);
    lines.forEach((line, row) => {
      const trimmed = line.trim();
      if (trimmed.length === 0) return;
      const [rgb, depth, ...rest] = trimmed.split(",").map((cell) => cell.trim());
      if (rgb === undefined || depth === undefined || rest.length > 0) {
        throw datasetError(
          "INVALID_DATASET_FILE",
          `${where}: ${csvName} line ${row + 1} is not "rgb,depth"`,
          where,
        );
      }
      for (const name of [rgb, depth]) checkRelativeName(name, `${where}: ${csvName}`);
      pairs.push([rgb, depth]);
    });
    if ((options.verifyCounts ?? true) && pairs.length !== OFFICIAL[split]) {
      throw datasetError(
        "INVALID_DATASET_FILE",
        `${where}: the official ${csvName} lists ${OFFICIAL[split]} pairs, this one ${pairs.length} (pass verifyCounts: false for a subset)`,
        where,
      );
    }
    const size = pairs.length;
    const decodeRgb = (name: string, height: number, width: number): Uint8Array => {
      const bytes = read(name);
      if (!/\.png$/i.test(name)) return decodeJpegRgb(bytes, name, height, width, limits.maxImagePixels);
      const image = decodePng(png, bytes, name, limits.maxImagePixels);
      if (image.height !== height || image.width !== width) {
        throw datasetError(
          "INVALID_DATASET_FILE",
          `${name}: ${image.height}×${image.width}, expected ${height}×${width}`,
          name,
        );
      }
      return pngToRgb(image);
    };
    const decodeDepth = (name: string, height: number, width: number): Float32Array => {
      const image = decodePng(png, read(name), name, limits.maxImagePixels);
      if (image.height !== height || image.width !== width) {
        throw datasetError(
          "INVALID_DATASET_FILE",
          `${name}: depth is ${image.height}×${image.width}, expected ${height}×${width}`,
          name,
        );
      }
      return denseDepthPngToMetres(image, name);
    };
    // The image size comes from the first depth map (all are 480×640 in nyu_data.zip).
    let height = 480;
    let width = 640;
    if (size > 0) {
      const first = decodePng(png, read(pairs[0]![1]), pairs[0]![1], limits.maxImagePixels);
      height = first.height;
      width = first.width;
    }
    return {
      task: "depth",
      name: "nyu-depth-v2",
      split,
      size,
      imageShape: [height, width, 3],
      depthShape: [height, width],
      pair(index: number) {
        checkIndex(index, size, "nyu-depth-v2");
        return pairs[index]!;
      },
      get(index: number): DepthSample {
        checkIndex(index, size, "nyu-depth-v2");
        const [rgb, depth] = pairs[index]!;
        return { image: decodeRgb(rgb, height, width), depth: decodeDepth(depth, height, width) };
      },
      close,
    };
  } catch (error) {
    close();
    throw error;
  }
}
