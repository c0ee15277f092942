import type { Dataset } from "@kora/datasets";
import { getDataset, listDatasets, openDataset } from "@kora/datasets/node";
import { didYouMean } from "@kora/spec";
import { UsageError } from "../support/errors";
import type { RunFile } from "./run-file";

/** A dataset split to open. */
export interface DatasetChoice {
  /** Registry name (`synthetic-source`, `cifar100`, …). */
  name: string;
  /** Folder of a dataset on disk (synthetic suites need none). */
  root?: string | undefined;
  /** Split (`train`, `test`, …). */
  split: string;
}

/**
 * Opens a registered dataset split. An unknown name or split is bad usage (exit 2, with a suggestion); a missing
 * copy on disk is the package's `DATASET_NOT_FOUND` (exit 1, says where to get it).
 */
export async function openDatasetSplit(choice: DatasetChoice, flag = "--dataset"): Promise<Dataset> {
  const names = listDatasets();
  if (!names.includes(choice.name)) {
    throw new UsageError(
      `${flag}: unknown dataset "${choice.name}"; known: ${names.join(", ")}${didYouMean(choice.name, names)}`,
    );
  }
  const splits = getDataset(choice.name).splits as readonly string[];
  if (!splits.includes(choice.split)) {
    throw new UsageError(
      `--split: ${choice.name} has splits ${splits.join(", ")}, not "${choice.split}"${didYouMean(choice.split, splits)}`,
    );
  }
  return openDataset(choice.name, {
    split: choice.split as "train",
    ...(choice.root === undefined ? {} : { root: choice.root }),
  });
}

/** The evaluation split of a dataset: `test` when it has one, else `val`. */
export function evaluationSplit(name: string): string {
  const splits = getDataset(name).splits as readonly string[];
  return splits.includes("test") ? "test" : splits.includes("val") ? "val" : splits[0]!;
}

/** The dataset split a command reads for a run: the flags, else the run's own dataset at its evaluation split. */
export function runDataset(
  run: RunFile,
  options: { dataset?: string; root?: string; split?: string },
): { name: string; root: string | undefined; split: string } {
  const name = options.dataset ?? run.dataset.name;
  const root = options.root ?? (options.dataset === undefined ? run.dataset.root : undefined);
  return { name, root, split: options.split ?? evaluationSplit(name) };
}
