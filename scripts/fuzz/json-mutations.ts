// Structure-aware mutations of JSON documents (manifests, configs, experiment files): byte mutations mostly break
// the syntax, so the values behind it (a depth of 2^32, a `__proto__` key, a 10^5-deep value) are rarely reached.
// These edit the parsed document at a chosen path and serialise it again.
import fc from "fast-check";

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** One edit of a parsed JSON document. `at` picks a path (modulo the number of paths). */
export type JsonMutation =
  | { kind: "replace"; at: number; value: Json }
  /** Replaces the n-th number in the document (sizes, counts, versions) with another number. */
  | { kind: "number"; at: number; value: number }
  | { kind: "delete"; at: number }
  | { kind: "add-key"; at: number; key: string; value: Json }
  | { kind: "nest"; at: number; depth: number };

/** Values that break validation: size and sign boundaries, wrong types, prototype words, empty containers. */
export const INTERESTING_JSON_VALUES: readonly Json[] = [
  0,
  -1,
  0.5,
  1e7,
  2 ** 31,
  2 ** 32,
  2 ** 53 + 2,
  1e308,
  -1e308,
  "",
  "__proto__",
  "x".repeat(1000),
  null,
  true,
  [],
  {},
  [0, 1, 2],
  Array.from({ length: 1000 }, (_, i) => i),
];

/** Numbers for numeric fields: zero, negative, fractional, 10^7, 2^31, 2^32, beyond 2^53, overflow to infinity. */
export const INTERESTING_JSON_NUMBERS: readonly number[] = [
  0,
  -1,
  0.5,
  3,
  1e7,
  2 ** 31,
  2 ** 32,
  2 ** 53 + 2,
  1e308,
];

/** Keys to add: prototype keys (set through `defineProperty`, so they serialise as own keys), and a stray one. */
export const INTERESTING_KEYS = ["__proto__", "constructor", "prototype", "toString", "", "extra"] as const;

/** Every path of `value` (the root is `[]`), breadth first. */
function paths(value: Json): (string | number)[][] {
  const out: (string | number)[][] = [];
  const queue: { value: Json; path: (string | number)[] }[] = [{ value, path: [] }];
  for (let next = 0; next < queue.length; next++) {
    const item = queue[next]!;
    out.push(item.path);
    if (Array.isArray(item.value)) {
      for (let i = 0; i < item.value.length; i++)
        queue.push({ value: item.value[i]!, path: [...item.path, i] });
    } else if (item.value !== null && typeof item.value === "object") {
      for (const [key, child] of Object.entries(item.value))
        queue.push({ value: child, path: [...item.path, key] });
    }
  }
  return out;
}

function valueAt(root: Json, path: readonly (string | number)[]): Json {
  let value = root;
  for (const step of path) value = (value as Record<string | number, Json>)[step]!;
  return value;
}

function setOwn(target: Record<string, Json> | Json[], key: string | number, value: Json): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Applies `mutation` to a deep copy of `document`. */
export function applyJsonMutation(document: Json, mutation: JsonMutation): Json {
  const root = structuredClone(document);
  let all = paths(root);
  if (mutation.kind === "number") {
    const numeric = all.filter((path) => typeof valueAt(root, path) === "number");
    if (numeric.length === 0) return root;
    all = numeric;
  }
  const path = all[mutation.at % all.length]!;
  const replacement: Json | undefined =
    mutation.kind === "replace" || mutation.kind === "number"
      ? mutation.value
      : mutation.kind === "nest"
        ? (JSON.parse("[".repeat(mutation.depth) + "]".repeat(mutation.depth)) as Json)
        : undefined;
  if (path.length === 0) {
    if (replacement !== undefined) return replacement;
    if (mutation.kind === "add-key" && root !== null && typeof root === "object" && !Array.isArray(root)) {
      setOwn(root, mutation.key, mutation.value);
    }
    return root;
  }
  let parent = root as Record<string, Json> | Json[];
  for (const step of path.slice(0, -1))
    parent = (parent as Record<string | number, Json>)[step] as typeof parent;
  const last = path[path.length - 1]!;
  if (replacement !== undefined) {
    setOwn(parent, last, replacement);
  } else if (mutation.kind === "delete") {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last as string];
  } else if (mutation.kind === "add-key") {
    const target = (parent as Record<string | number, Json>)[last];
    if (target !== null && typeof target === "object" && !Array.isArray(target)) {
      setOwn(target, mutation.key, mutation.value);
    } else if (!Array.isArray(parent)) {
      setOwn(parent, mutation.key, mutation.value);
    }
  }
  return root;
}

/** A fast-check arbitrary of one JSON mutation. */
export function jsonMutation(): fc.Arbitrary<JsonMutation> {
  const at = fc.nat({ max: 1 << 16 });
  const value = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...INTERESTING_JSON_VALUES) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json> },
  );
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant("replace" as const), at, value }) },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant("number" as const),
        at,
        value: fc.constantFrom(...INTERESTING_JSON_NUMBERS),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("delete" as const), at }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant("add-key" as const),
        at,
        key: fc.constantFrom(...INTERESTING_KEYS),
        value,
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant("nest" as const),
        at,
        // Shallow enough for structuredClone and JSON.stringify here; the readers meet 10^5 levels in the bombs.
        depth: fc.constantFrom(2, 63, 64, 65, 1000),
      }),
    },
  );
}

/**
 * An arbitrary of JSON texts: one of `documents` with 1 to `maxMutations` structure-aware edits, serialised.
 * Shrinks towards fewer edits.
 */
export function mutatedJsonText(
  documents: readonly Json[],
  options: { maxMutations?: number } = {},
): fc.Arbitrary<string> {
  if (documents.length === 0) throw new Error("mutatedJsonText needs at least one document");
  return fc
    .tuple(
      fc.nat({ max: documents.length - 1 }),
      fc.array(jsonMutation(), { minLength: 1, maxLength: options.maxMutations ?? 3 }),
    )
    .map(([index, mutations]) => JSON.stringify(mutations.reduce(applyJsonMutation, documents[index]!)));
}
