// Mutations of valid files, the fuzzer's raw material: a reader's valid inputs cover its format, and small edits
// of them reach the rules (and the bugs) far more often than random bytes do. Positions are drawn as naturals and
// taken modulo the current length, so any list of mutations applies to any input and fast-check can shrink it.
import fc from "fast-check";

/** One edit of a byte string. */
export type ByteMutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "set"; at: number; value: number }
  | { kind: "truncate"; at: number }
  | { kind: "insert"; at: number; bytes: number[] }
  | { kind: "delete"; at: number; count: number }
  /** Overwrites bytes at `at` with a range of another seed (or the same one): headers meet foreign data. */
  | { kind: "splice"; at: number; donor: number; from: number; count: number }
  /** Repeats a range `times` times in place: long runs, repeated keys, many dimensions. */
  | { kind: "repeat"; at: number; count: number; times: number }
  /** Writes a little-endian unsigned integer of `width` bytes: length prefixes, counts, offsets. */
  | { kind: "length-field"; at: number; width: 1 | 2 | 4 | 8; value: bigint }
  /** Replaces the n-th run of ASCII digits (a number in a text header) with a chosen literal. */
  | { kind: "number"; nth: number; literal: string }
  /** Replaces the n-th double-quoted string (a key or a name in a JSON header) with a chosen one. */
  | { kind: "string"; nth: number; literal: string };

/** Byte values that sit on boundaries or mean something in text headers. */
export const INTERESTING_BYTES = [
  0x00, 0x01, 0x7f, 0x80, 0xff, 0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x28, 0x29, 0x27, 0x0a, 0x30,
  0x39,
] as const;

/** Integers that break length and count fields: zero, one, sign and width boundaries, 2^32, 2^53 + 1. */
export const INTERESTING_INTEGERS: readonly bigint[] = [
  0n,
  1n,
  2n,
  7n,
  0x7fn,
  0xffn,
  0x7fffn,
  0xffffn,
  0x7fffffffn,
  0xffffffffn,
  0x100000000n,
  0x20000000000001n,
  0xffffffffffffffffn,
];

/** Number literals for text headers: boundaries, huge and fractional values, exponents, a sign. */
export const INTERESTING_NUMBERS = [
  "0",
  "1",
  "-1",
  "2",
  "255",
  "65536",
  "4294967295",
  "4294967296",
  "10000000",
  "1e7",
  "1e308",
  "9007199254740993",
  "0.5",
  "-0",
] as const;

/** Strings for keys and names: prototype keys, empty, control and non-ASCII characters, a long name. */
export const INTERESTING_STRINGS = [
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "",
  "\\u0000",
  "é",
  "\\ud800",
  "x".repeat(300),
] as const;

/** A fast-check arbitrary of one mutation; `donors` is how many seeds a splice may copy from. */
export function byteMutation(donors: number): fc.Arbitrary<ByteMutation> {
  const at = fc.nat({ max: 1 << 20 });
  return fc.oneof(
    fc.record({ kind: fc.constant("flip" as const), at, bit: fc.nat({ max: 7 }) }),
    fc.record({
      kind: fc.constant("set" as const),
      at,
      value: fc.oneof(fc.constantFrom(...INTERESTING_BYTES), fc.nat({ max: 255 })),
    }),
    fc.record({ kind: fc.constant("truncate" as const), at }),
    fc.record({
      kind: fc.constant("insert" as const),
      at,
      bytes: fc.array(fc.nat({ max: 255 }), { minLength: 1, maxLength: 8 }),
    }),
    fc.record({ kind: fc.constant("delete" as const), at, count: fc.integer({ min: 1, max: 16 }) }),
    fc.record({
      kind: fc.constant("splice" as const),
      at,
      donor: fc.nat({ max: Math.max(0, donors - 1) }),
      from: at,
      count: fc.integer({ min: 1, max: 64 }),
    }),
    fc.record({
      kind: fc.constant("repeat" as const),
      at,
      count: fc.integer({ min: 1, max: 16 }),
      times: fc.integer({ min: 2, max: 256 }),
    }),
    fc.record({
      kind: fc.constant("length-field" as const),
      at,
      width: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const),
      value: fc.oneof(
        fc.constantFrom(...INTERESTING_INTEGERS),
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      ),
    }),
    fc.record({
      kind: fc.constant("number" as const),
      nth: fc.nat({ max: 1 << 16 }),
      literal: fc.constantFrom(...INTERESTING_NUMBERS),
    }),
    fc.record({
      kind: fc.constant("string" as const),
      nth: fc.nat({ max: 1 << 16 }),
      literal: fc.constantFrom(...INTERESTING_STRINGS),
    }),
  );
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Start and end (exclusive) of every maximal run of bytes for which `inside` holds. */
function runs(bytes: Uint8Array, inside: (b: number) => boolean): [number, number][] {
  const found: [number, number][] = [];
  for (let i = 0; i < bytes.length; i++) {
    if (!inside(bytes[i]!)) continue;
    const start = i;
    while (i < bytes.length && inside(bytes[i]!)) i++;
    found.push([start, i]);
  }
  return found;
}

/** Start and end (exclusive, after the closing quote) of each double-quoted string, escapes honoured. */
function quotedStrings(bytes: Uint8Array): [number, number][] {
  const found: [number, number][] = [];
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== 0x22) continue;
    let end = i + 1;
    while (end < bytes.length && bytes[end] !== 0x22) end += bytes[end] === 0x5c ? 2 : 1;
    if (end >= bytes.length) break;
    found.push([i, end + 1]);
    i = end;
  }
  return found;
}

const ascii = (text: string) => new TextEncoder().encode(text);

/** Applies one mutation to `bytes` (never in place); `donors` are the seeds a splice copies from. */
export function applyMutation(
  bytes: Uint8Array,
  mutation: ByteMutation,
  donors: readonly Uint8Array[],
): Uint8Array {
  const at = "at" in mutation ? mutation.at % (bytes.length + 1) : 0;
  switch (mutation.kind) {
    case "flip": {
      if (at >= bytes.length) return bytes;
      const out = bytes.slice();
      out[at]! ^= 1 << mutation.bit;
      return out;
    }
    case "set": {
      if (at >= bytes.length) return bytes;
      const out = bytes.slice();
      out[at] = mutation.value;
      return out;
    }
    case "truncate":
      return bytes.slice(0, at);
    case "insert":
      return concat(bytes.subarray(0, at), Uint8Array.from(mutation.bytes), bytes.subarray(at));
    case "delete":
      return concat(bytes.subarray(0, at), bytes.subarray(at + mutation.count));
    case "splice": {
      const donor = donors[mutation.donor % Math.max(1, donors.length)] ?? bytes;
      const from = mutation.from % (donor.length + 1);
      const chunk = donor.subarray(from, from + mutation.count);
      const out = bytes.slice();
      out.set(chunk.subarray(0, Math.max(0, out.length - at)), at);
      return out;
    }
    case "repeat": {
      const range = bytes.subarray(at, at + mutation.count);
      const repeated = new Uint8Array(range.length * mutation.times);
      for (let i = 0; i < mutation.times; i++) repeated.set(range, i * range.length);
      return concat(bytes.subarray(0, at), repeated, bytes.subarray(at + range.length));
    }
    case "length-field": {
      const out = bytes.slice();
      let value = mutation.value;
      for (let i = 0; i < mutation.width && at + i < out.length; i++) {
        out[at + i] = Number(value & 0xffn);
        value >>= 8n;
      }
      return out;
    }
    case "number": {
      const found = runs(bytes, (b) => b >= 0x30 && b <= 0x39);
      if (found.length === 0) return bytes;
      const [start, end] = found[mutation.nth % found.length]!;
      return concat(bytes.subarray(0, start), ascii(mutation.literal), bytes.subarray(end));
    }
    case "string": {
      const found = quotedStrings(bytes);
      if (found.length === 0) return bytes;
      const [start, end] = found[mutation.nth % found.length]!;
      return concat(bytes.subarray(0, start), ascii(`"${mutation.literal}"`), bytes.subarray(end));
    }
  }
}

/** Applies `mutations` in order. */
export function applyMutations(
  seed: Uint8Array,
  mutations: readonly ByteMutation[],
  donors: readonly Uint8Array[],
): Uint8Array {
  return mutations.reduce((bytes, mutation) => applyMutation(bytes, mutation, donors), seed);
}

/**
 * An arbitrary of byte strings made by applying 1 to `maxMutations` mutations to one of `seeds` (valid files of
 * the format under test). Splices copy from any seed. Shrinks towards fewer, simpler mutations.
 */
export function mutatedBytes(
  seeds: readonly Uint8Array[],
  options: { maxMutations?: number } = {},
): fc.Arbitrary<Uint8Array> {
  if (seeds.length === 0) throw new Error("mutatedBytes needs at least one seed");
  return fc
    .tuple(
      fc.nat({ max: seeds.length - 1 }),
      fc.array(byteMutation(seeds.length), { minLength: 1, maxLength: options.maxMutations ?? 4 }),
    )
    .map(([index, mutations]) => applyMutations(seeds[index]!, mutations, seeds));
}

/**
 * Mutated seeds, a few unmodified seeds, and plain random bytes: the mix a reader's fuzz property runs on.
 */
export function hostileBytes(
  seeds: readonly Uint8Array[],
  options: { maxMutations?: number; maxRandomLength?: number } = {},
): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 8, arbitrary: mutatedBytes(seeds, options) },
    { weight: 1, arbitrary: fc.constantFrom(...seeds) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: options.maxRandomLength ?? 256 }) },
  );
}
