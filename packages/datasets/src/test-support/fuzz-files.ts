import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import fc from "fast-check";
import { hostileBytes, INTERESTING_INTEGERS } from "../../../../scripts/fuzz";
import { DATASET_ERROR_CODES } from "../errors";

// The @kora/datasets side of the shared fuzz helpers (scripts/fuzz): the file readers take folders, so an input is
// a valid dataset folder with one of its files replaced by hostile bytes.

/** Codes a reader may throw on a hostile file: every code the package declares except those for bad options. */
export const FILE_ERROR_CODES: readonly string[] = DATASET_ERROR_CODES.filter(
  (code) => code !== "UNKNOWN_DATASET" && code !== "INVALID_ARGUMENT",
);

/** Generous per-input bound (ms): it catches hangs and runaway decoding on a loaded machine, it times nothing. */
export const FUZZ_MAX_MS = 10_000;

/** A dataset folder as relative path → bytes. */
export type FileTree = Record<string, Uint8Array>;

/** A length, count or offset field of a seed file, which field-aware edits rewrite. */
export interface Field {
  at: number;
  width: 1 | 2 | 4 | 8;
  little: boolean;
}

/** Writes `value` into `field` of a copy of `bytes`. */
function writeField(bytes: Uint8Array, field: Field, value: bigint): Uint8Array {
  const out = bytes.slice();
  const mask = (1n << BigInt(8 * field.width)) - 1n;
  let rest = value & mask;
  for (let i = 0; i < field.width && field.at + i < out.length; i++) {
    const k = field.little ? i : field.width - 1 - i;
    out[field.at + k] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
}

/** Reads `field` of `bytes` as an unsigned integer. */
function readField(bytes: Uint8Array, field: Field): bigint {
  let value = 0n;
  for (let i = 0; i < field.width; i++) {
    const k = field.little ? field.width - 1 - i : i;
    value = (value << 8n) | BigInt(bytes[field.at + k] ?? 0);
  }
  return value;
}

/**
 * Field-aware edits: one to three of a seed's known length / count / offset fields rewritten with a boundary value
 * or the original nudged by a few bytes (where real parsers break: a length one short, or off by 2^32), then
 * perhaps one random mutation on top. Blind byte edits almost never land on these fields.
 */
export function fieldEdits(seed: Uint8Array, fields: readonly Field[]): fc.Arbitrary<Uint8Array> {
  const edit = fc.tuple(
    fc.nat({ max: fields.length - 1 }),
    fc.oneof(
      fc.constantFrom(...INTERESTING_INTEGERS),
      fc.integer({ min: -9, max: 9 }).map((delta) => ({ delta })),
    ),
  );
  return fc.noBias(
    fc.array(edit, { minLength: 1, maxLength: 3 }).map((edits) =>
      edits.reduce((bytes, [index, value]) => {
        const field = fields[index]!;
        const next = typeof value === "bigint" ? value : readField(bytes, field) + BigInt(value.delta);
        return writeField(bytes, field, next);
      }, seed),
    ),
  );
}

/** One fuzz input: the folder with file `target` replaced by `bytes`. */
export interface MutatedTree {
  target: string;
  bytes: Uint8Array;
}

/**
 * An arbitrary that picks one file of `tree` and replaces it with hostile bytes derived from it (mutations of the
 * file itself, splices from the other files, or random bytes).
 */
export function mutatedTree(
  tree: FileTree,
  targets: readonly string[] = Object.keys(tree),
  fields: Record<string, readonly Field[]> = {},
): fc.Arbitrary<MutatedTree> {
  // Plain copies: a Node Buffer's slice() is a view, so mutating a "copy" of a Buffer seed (what gzipSync and the
  // image encoders return) would damage the seed itself for every later input.
  const seeds = Object.fromEntries(
    Object.entries(tree).map(([name, bytes]) => [name, Uint8Array.from(bytes)]),
  );
  // Unbiased: fast-check's default bias favours small naturals, which would put most edits in the first bytes of a
  // file (its magic number); the interesting fields sit anywhere.
  return fc.oneof(
    ...targets.map((target) =>
      fc
        .oneof(
          fc.noBias(
            hostileBytes([seeds[target]!, ...Object.values(seeds).filter((b) => b !== seeds[target])]),
          ),
          ...(fields[target] === undefined || fields[target].length === 0
            ? []
            : [fieldEdits(seeds[target]!, fields[target])]),
        )
        .map((bytes) => ({ target, bytes })),
    ),
  );
}

/** Writes `tree` with `input` applied into a fresh folder under `parent` and returns the folder. */
export function writeTree(parent: string, tree: FileTree, input?: MutatedTree): string {
  const dir = mkdtempSync(join(parent, "case-"));
  for (const [name, bytes] of Object.entries(tree)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), input?.target === name ? input.bytes : bytes);
  }
  return dir;
}

/** A temporary parent folder for a suite's cases, and a function that removes one case. */
export function fuzzWorkspace(name: string): { parent: string; remove: (dir: string) => void } {
  const parent = mkdtempSync(join(tmpdir(), `kora-fuzz-${name}-`));
  return { parent, remove: (dir) => rmSync(dir, { recursive: true, force: true }) };
}

/** A short description of an input for failure messages. */
export function describeTree(input: MutatedTree): string {
  const head = Array.from(input.bytes.subarray(0, 64), (b) => b.toString(16).padStart(2, "0")).join("");
  return `(${input.target}: ${input.bytes.length} bytes: ${head}${input.bytes.length > 64 ? "…" : ""})`;
}
