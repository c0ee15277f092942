import { createHash } from "node:crypto";
import {
  type ClassificationDataset,
  classSubsetDataset,
  type Dataset,
  type DepthDataset,
  type SegmentationDataset,
  shiftedDataset,
  shuffledIndices,
  stratifiedSubset,
  subsetDataset,
} from "@kora/datasets";
import { openDataset } from "@kora/datasets/node";
import { hashSeed } from "@kora/spec";
import type { ClassificationData, Preset } from "../config/presets";

/** What every task receives. */
export interface TaskContext {
  preset: Preset;
  /** Results folder. */
  out: string;
  /** Cache folder (pretrained backbones). */
  cacheDir: string;
  /** Progress within the current run (optimizer steps done / total). */
  onProgress: (done: number, total: number) => void;
  /** A line for the log. */
  log: (line: string) => void;
}

/** Stable short hash of a JSON value (run keys, cache names). */
export function hashOf(value: unknown, length = 12): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, length);
}

const datasetCache = new Map<string, Promise<Dataset>>();

function openCached<D extends Dataset>(
  name: string,
  split: string,
  sizes: {
    root?: string | undefined;
    trainSize?: number | undefined;
    testSize?: number | undefined;
    imageSize?: number | undefined;
  },
): Promise<D> {
  const options: Record<string, unknown> = { split };
  if (sizes.root !== undefined) options["root"] = sizes.root;
  if (sizes.imageSize !== undefined) options["imageSize"] = sizes.imageSize;
  if (sizes.trainSize !== undefined) options["trainSize"] = sizes.trainSize;
  if (sizes.testSize !== undefined) options["testSize"] = sizes.testSize;
  const key = JSON.stringify([name, options]);
  let found = datasetCache.get(key);
  if (found === undefined) {
    const opening = openDataset(name, options);
    datasetCache.set(key, opening);
    // A failed open is not kept: the next run opens the dataset again rather than failing with the same error.
    opening.catch(() => datasetCache.get(key) === opening && datasetCache.delete(key));
    found = opening;
  }
  return found as Promise<D>;
}

const viewCache = new Map<string, Promise<ClassificationDataset>>();

/**
 * Opens (once per process) a split of a task's classification data, as the task sees it: the train split cut to
 * the task's pool (items the backbone never saw), its classes only (relabelled), every image through its shift.
 */
export function openClassification(
  data: ClassificationData,
  split: "train" | "test" | "val",
): Promise<ClassificationDataset> {
  const key = JSON.stringify([
    data.dataset,
    data.root,
    data.trainSize,
    data.testSize,
    split,
    data.pool,
    data.classes,
    data.shift,
  ]);
  let found = viewCache.get(key);
  if (found === undefined) {
    found = openCached<ClassificationDataset>(data.dataset, split, data).then((base) => {
      let view = base;
      if (split === "train" && data.pool !== undefined) {
        const [start, end] = data.pool;
        view = subsetDataset(
          view,
          Array.from({ length: Math.min(end, view.size) - start }, (_, i) => start + i),
        );
      }
      if (data.classes !== undefined) view = classSubsetDataset(view, data.classes);
      if (data.shift !== undefined) view = shiftedDataset(view, data.shift);
      return view;
    });
    const opening = found;
    viewCache.set(key, opening);
    opening.catch(() => viewCache.get(key) === opening && viewCache.delete(key));
  }
  return found;
}

/**
 * The training items of a seed: a class-stratified draw of `count` items (all of them when `count` is null or not
 * smaller than the split), drawn again for every seed — seeds resample the data as well as the initialisation.
 */
export function seededItems(
  dataset: ClassificationDataset,
  count: number | null,
  seed: number,
  salt: string,
): number[] {
  if (count === null || count >= dataset.size) return Array.from({ length: dataset.size }, (_, i) => i);
  return stratifiedSubset(dataset, { fraction: count / dataset.size, seed: hashSeed(seed, salt) });
}

/** Opens (once per process) a split of the preset's depth dataset. */
export function openDepth(preset: Preset, split: "train" | "test"): Promise<DepthDataset> {
  return openCached(preset.depth.dataset, split, preset.depth);
}

/** Opens (once per process) a split of the preset's segmentation dataset. */
export function openSegmentation(preset: Preset, split: "train" | "test"): Promise<SegmentationDataset> {
  return openCached(preset.segmentation.dataset, split, preset.segmentation);
}

/** The fixed evaluation items of a classification split: the whole split, or a class-stratified subset. */
export function evaluationIndices(dataset: ClassificationDataset, size: number | null): number[] {
  if (size === null || size >= dataset.size) return Array.from({ length: dataset.size }, (_, i) => i);
  return stratifiedSubset(dataset, { fraction: size / dataset.size, seed: 0 });
}

/**
 * A fixed seeded choice of `count` items (the same for every seed and method), or all of them. The choice is
 * `@kora/datasets`' seeded shuffle under `hashSeed(salt)`, the project's one seed hash.
 */
export function fixedItems(size: number, count: number | null, salt: string): number[] {
  if (count === null || count >= size) return Array.from({ length: size }, (_, i) => i);
  return Array.from(shuffledIndices(size, hashSeed(salt)).slice(0, count)).sort((a, b) => a - b);
}

/** The harness's warm-up: 10 % of the steps (none for runs under 10 steps), then the cosine decay to 0. */
export function warmupSteps(steps: number): number {
  return steps >= 10 ? Math.round(steps * 0.1) : 0;
}
