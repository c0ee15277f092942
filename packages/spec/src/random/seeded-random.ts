import { KoraError } from "../errors";
import type { SpecErrorCode } from "../errors/kora-error";

/**
 * The complete, JSON-serialisable state of a {@link SeededRandom}: restoring it continues the stream exactly
 * where it was captured (checkpoints store it).
 */
export interface RandomState {
  /** Generator algorithm; only `"sfc32"` exists. */
  algorithm: "sfc32";
  /** The four 32-bit words of the generator, as unsigned integers. */
  words: [number, number, number, number];
}

function mix(value: number): number {
  let h = value >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return (Math.imul(h, 5) + 0xe6546b64) >>> 0;
}

/**
 * Mixes integers and strings into one unsigned 32-bit seed (murmur3-style finaliser). Used to derive independent
 * streams, e.g. the shuffle seed of epoch `e` as `hashSeed(seed, "epoch", e)`, without running a generator.
 */
export function hashSeed(...parts: readonly (number | string)[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    if (typeof part === "string") {
      for (let i = 0; i < part.length; i++) h = mix(h ^ part.charCodeAt(i));
      h = mix(h ^ part.length);
    } else {
      if (!Number.isFinite(part)) {
        throw new KoraError<SpecErrorCode>({
          code: "INVALID_ARGUMENT",
          message: `a seed must be finite, got ${part}`,
        });
      }
      const low = part >>> 0;
      const high = Math.floor(part / 4294967296) >>> 0;
      h = mix(h ^ low);
      h = mix(h ^ high ^ 0x85ebca6b);
    }
  }
  return h >>> 0;
}

/**
 * A small seedable pseudo-random generator (sfc32, 128-bit state) in pure TypeScript: the same seed gives the
 * same stream on every platform and backend, and its state serialises to JSON ({@link RandomState}), so a
 * checkpoint can resume the stream exactly. Not cryptographic.
 *
 * @example
 * ```ts
 * const random = new SeededRandom(42);
 * const order = random.permutation(1000); // shuffle
 * tf.dropout(x, 0.1, undefined, random.nextSeed()); // a seeded tfjs op
 * ```
 */
export class SeededRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** Creates a generator from a seed (any finite number or string). */
  constructor(seed: number | string) {
    this.a = hashSeed(seed, 1);
    this.b = hashSeed(seed, 2);
    this.c = hashSeed(seed, 3);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** A generator that continues from `state` (see {@link SeededRandom.getState}). */
  static fromState(state: RandomState): SeededRandom {
    const random = new SeededRandom(0);
    random.setState(state);
    return random;
  }

  /** The current state (a copy); restoring it with {@link SeededRandom.setState} replays the same stream. */
  getState(): RandomState {
    return { algorithm: "sfc32", words: [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0] };
  }

  /** Replaces the state with `state`. */
  setState(state: RandomState): void {
    const words = state?.words;
    if (
      state?.algorithm !== "sfc32" ||
      !Array.isArray(words) ||
      words.length !== 4 ||
      !words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff)
    ) {
      throw new KoraError<SpecErrorCode>({
        code: "INVALID_ARGUMENT",
        message: `random state must be { algorithm: "sfc32", words: four uint32 }, got ${JSON.stringify(state)}`,
      });
    }
    [this.a, this.b, this.c, this.d] = words.map((w) => w | 0) as [number, number, number, number];
  }

  /** Next unsigned 32-bit integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Next float in `[0, 1)` (32 random bits). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Next integer in `[0, n)`; `n` must be a positive integer ≤ 2^32. */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Next float in `[min, max)`. */
  uniform(min: number, max: number): number {
    return min + this.next() * (max - min);
  }

  /** Next standard-normal sample (Box–Muller; two draws per sample, nothing cached, so the state stays 128 bits). */
  normal(): number {
    const u = (this.nextUint32() + 1) / 4294967297;
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** A seed for a seeded tfjs op (`tf.dropout`, `tf.randomUniform`, initialisers): the next 32-bit integer. */
  nextSeed(): number {
    return this.nextUint32();
  }

  /** A `Float32Array` of `size` normal samples with the given mean and standard deviation (for initialisers). */
  normalArray(size: number, mean = 0, std = 1): Float32Array {
    const out = new Float32Array(size);
    for (let i = 0; i < size; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /** A uniformly random permutation of `0 … n-1` (Fisher–Yates). */
  permutation(n: number): Int32Array {
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = order[i] as number;
      order[i] = order[j] as number;
      order[j] = t;
    }
    return order;
  }
}
