import { checkInteger } from "../errors";
import { createRandom } from "../random/rng";

/**
 * A seeded permutation of `0 … n-1` (Fisher–Yates). The same `(n, seed)` gives the same order everywhere;
 * use `hashSeed(seed, epoch)` as the seed for a new order every epoch.
 */
export function shuffledIndices(n: number, seed: number | string): Int32Array {
  checkInteger(n, "n", 0, 0x7fffffff);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  shuffleInPlace(order, seed);
  return order;
}

/** Shuffles `values` in place with a seeded Fisher–Yates pass and returns it. */
export function shuffleInPlace<T extends { length: number; [index: number]: number }>(
  values: T,
  seed: number | string,
): T {
  const rng = createRandom(seed);
  for (let i = values.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const tmp = values[i]!;
    values[i] = values[j]!;
    values[j] = tmp;
  }
  return values;
}
