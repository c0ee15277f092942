import { hashSeed } from "@kora/spec";
import { datasetError } from "../errors";
import type { ClassificationDataset } from "../types";
import { shuffleInPlace } from "./shuffle";

/** Options of {@link stratifiedSubset}: give exactly one of `fraction` and `perClass`. */
export interface StratifiedSubsetOptions {
  /**
   * Fraction of the items to keep, in (0, 1]. The subset has exactly `round(fraction × n)` items, split over the
   * classes in proportion to their sizes (largest remainder, ties to the lower class index).
   */
  fraction?: number;
  /** Keep exactly this many items of every class (all of a class when it has fewer). */
  perClass?: number;
  /** Seed of the within-class choice; the same seed and labels give the same subset for every caller. Default 0. */
  seed?: number;
  /** Keep at least this many items of each non-empty class (may exceed `round(fraction × n)`). Default 0. */
  minPerClass?: number;
}

/**
 * A fixed class-stratified subset: which items of each class are kept depends only on the labels, the options and
 * the seed, so every method of an experiment trains on the same items. `fraction: 0.01` on CIFAR-100 train
 * (500 per class) keeps exactly 5 per class, 500 in all.
 *
 * @param source - a classification dataset (its `label(i)` is read, no image decoded) or the labels themselves;
 *   labels below 0 (unlabelled) are never chosen.
 * @returns the chosen item indices in ascending order.
 */
export function stratifiedSubset(
  source: ClassificationDataset | ArrayLike<number>,
  options: StratifiedSubsetOptions,
): number[] {
  const labelAt: (i: number) => number =
    "task" in source && (source as ClassificationDataset).task === "classification"
      ? (i) => (source as ClassificationDataset).label(i)
      : (i) => (source as ArrayLike<number>)[i]!;
  const n = "task" in source ? (source as ClassificationDataset).size : (source as ArrayLike<number>).length;
  const { fraction, perClass } = options;
  if ((fraction === undefined) === (perClass === undefined)) {
    throw datasetError(
      "INVALID_ARGUMENT",
      "stratifiedSubset: give exactly one of fraction and perClass",
      "fraction",
    );
  }
  if (fraction !== undefined && !(fraction > 0 && fraction <= 1)) {
    throw datasetError(
      "INVALID_ARGUMENT",
      `stratifiedSubset: fraction must be in (0, 1], got ${fraction}`,
      "fraction",
    );
  }
  if (perClass !== undefined && !(Number.isInteger(perClass) && perClass >= 0)) {
    throw datasetError(
      "INVALID_ARGUMENT",
      `stratifiedSubset: perClass must be a non-negative integer`,
      "perClass",
    );
  }
  const members = new Map<number, number[]>();
  let labelled = 0;
  for (let i = 0; i < n; i++) {
    const label = labelAt(i);
    if (!Number.isInteger(label) || label < 0) continue;
    let list = members.get(label);
    if (list === undefined) {
      list = [];
      members.set(label, list);
    }
    list.push(i);
    labelled++;
  }
  const classes = [...members.keys()].sort((a, b) => a - b);
  const take = new Map<number, number>();
  if (perClass !== undefined) {
    for (const c of classes) take.set(c, Math.min(perClass, members.get(c)!.length));
  } else {
    const total = Math.round(fraction! * labelled);
    let assigned = 0;
    const remainders: [number, number][] = [];
    for (const c of classes) {
      const exact = fraction! * members.get(c)!.length;
      const floor = Math.floor(exact + 1e-9);
      take.set(c, floor);
      assigned += floor;
      remainders.push([exact - floor, c]);
    }
    remainders.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    for (let k = 0; assigned < total && k < remainders.length; k++, assigned++) {
      const c = remainders[k]![1];
      take.set(c, take.get(c)! + 1);
    }
  }
  const minimum = options.minPerClass ?? 0;
  const seed = options.seed ?? 0;
  const chosen: number[] = [];
  for (const c of classes) {
    const list = members.get(c)!;
    const k = Math.min(list.length, Math.max(take.get(c)!, minimum));
    shuffleInPlace(list, hashSeed(seed, "stratified-subset", c));
    for (let j = 0; j < k; j++) chosen.push(list[j]!);
  }
  return chosen.sort((a, b) => a - b);
}
