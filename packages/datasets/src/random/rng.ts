/** A small seeded pseudo-random generator (sfc32 core). Same seed → same stream, on every platform. */
export interface Random {
  /** Next float in `[0, 1)` (32 random bits). */
  next(): number;
  /** Next integer in `[0, n)`; `n` must be a positive integer ≤ 2^32. */
  int(n: number): number;
  /** Next float in `[min, max)`. */
  uniform(min: number, max: number): number;
  /** Next standard-normal sample (Box–Muller). */
  normal(): number;
}

/**
 * Mixes any number of integers and strings into one 32-bit seed (murmur3-style finaliser), so a stream for
 * `(seed, split, index)` can be derived without running a generator up to `index`.
 */
export function hashSeed(...parts: readonly (number | string)[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    if (typeof part === "string") {
      for (let i = 0; i < part.length; i++) h = mix(h ^ part.charCodeAt(i));
      h = mix(h ^ part.length);
    } else {
      // Hash the low and high 32 bits so seeds above 2^32 still matter.
      const low = part >>> 0;
      const high = Math.floor(part / 4294967296) >>> 0;
      h = mix(h ^ low);
      h = mix(h ^ high ^ 0x85ebca6b);
    }
  }
  return h >>> 0;
}

function mix(value: number): number {
  let h = value >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return (Math.imul(h, 5) + 0xe6546b64) >>> 0;
}

/** Creates a {@link Random} from a seed (any integer or string). */
export function createRandom(seed: number | string): Random {
  let a = hashSeed(seed, 1);
  let b = hashSeed(seed, 2);
  let c = hashSeed(seed, 3);
  let d = 1;
  const nextUint32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) nextUint32();
  let spare: number | undefined;
  return {
    next: () => nextUint32() / 4294967296,
    int: (n) => Math.floor((nextUint32() / 4294967296) * n),
    uniform: (min, max) => min + (nextUint32() / 4294967296) * (max - min),
    normal: () => {
      if (spare !== undefined) {
        const value = spare;
        spare = undefined;
        return value;
      }
      const u = (nextUint32() + 1) / 4294967297;
      const v = nextUint32() / 4294967296;
      const radius = Math.sqrt(-2 * Math.log(u));
      spare = radius * Math.sin(2 * Math.PI * v);
      return radius * Math.cos(2 * Math.PI * v);
    },
  };
}
