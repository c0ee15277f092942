import { SeededRandom } from "@kora/spec";

/** A small seeded pseudo-random generator (sfc32 core). Same seed → same stream, on every platform. */
export interface Random {
  /** Next float in `[0, 1)` (32 random bits). */
  next(): number;
  /** Next integer in `[0, n)`; `n` must be a positive integer ≤ 2^32. */
  int(n: number): number;
  /** Next float in `[min, max)`. */
  uniform(min: number, max: number): number;
  /** Next standard-normal sample (Box–Muller; the second sample of each pair is kept for the next call). */
  normal(): number;
}

/**
 * Creates a {@link Random} from a seed (any integer or string), on `@kora/spec`'s `SeededRandom` (sfc32). Unlike
 * `SeededRandom.normal`, `normal()` here uses both Box–Muller outputs (half the draws for image noise).
 */
export function createRandom(seed: number | string): Random {
  const generator = new SeededRandom(seed);
  let spare: number | undefined;
  return {
    next: () => generator.next(),
    int: (n) => generator.int(n),
    uniform: (min, max) => generator.uniform(min, max),
    normal: () => {
      if (spare !== undefined) {
        const value = spare;
        spare = undefined;
        return value;
      }
      const u = (generator.nextUint32() + 1) / 4294967297;
      const v = generator.next();
      const radius = Math.sqrt(-2 * Math.log(u));
      spare = radius * Math.sin(2 * Math.PI * v);
      return radius * Math.cos(2 * Math.PI * v);
    },
  };
}
