import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import fc from "fast-check";
import { hostileBytes } from "../../../../scripts/fuzz";
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
): fc.Arbitrary<MutatedTree> {
  // Plain copies: a Node Buffer's slice() is a view, so mutating a "copy" of a Buffer seed (what gzipSync and the
  // image encoders return) would damage the seed itself for every later input.
  const seeds = Object.fromEntries(
    Object.entries(tree).map(([name, bytes]) => [name, Uint8Array.from(bytes)]),
  );
  return fc.oneof(
    ...targets.map((target) =>
      hostileBytes([seeds[target]!, ...Object.values(seeds).filter((b) => b !== seeds[target])]).map(
        (bytes) => ({
          target,
          bytes,
        }),
      ),
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
