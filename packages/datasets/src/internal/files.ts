import { readFileSync, type Stats, statSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import { datasetError } from "../errors";
import { type DatasetLimits, DEFAULT_DATASET_LIMITS, limitExceeded } from "../limits";

/** @internal True when `path` is an existing regular file. */
export function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** @internal True when `path` is an existing directory. */
export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * @internal Reads a whole file, checking first that it is a regular file of at most `maxBytes` bytes: a missing
 * file becomes `DATASET_NOT_FOUND` with `hint` appended, a directory (or device, socket) `INVALID_DATASET_FILE`,
 * a larger file `LIMIT_EXCEEDED` (limit `limitName`), and any read error a `DATASET_NOT_FOUND` naming the path.
 */
export function readFileOrThrow(
  path: string,
  hint: string,
  maxBytes: number = DEFAULT_DATASET_LIMITS.maxFileBytes,
  limitName: keyof DatasetLimits = "maxFileBytes",
): Uint8Array {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (cause) {
    const code = (cause as { code?: unknown }).code;
    const why = code === "ENOENT" || code === "ENOTDIR" ? "missing file" : `cannot access (${String(code)})`;
    throw datasetError("DATASET_NOT_FOUND", `${why} ${path}. ${hint}`, path, cause);
  }
  if (!stats.isFile()) {
    throw datasetError(
      "INVALID_DATASET_FILE",
      `${path} is ${stats.isDirectory() ? "a directory" : "not a regular file"}; expected a file. ${hint}`,
      path,
    );
  }
  if (stats.size > maxBytes) limitExceeded(path, "the file size in bytes", stats.size, limitName, maxBytes);
  let buffer: Buffer;
  try {
    buffer = readFileSync(path);
  } catch (cause) {
    throw datasetError(
      "DATASET_NOT_FOUND",
      `cannot read ${path} (${cause instanceof Error ? cause.message : String(cause)})`,
      path,
      cause,
    );
  }
  // The file may have grown between stat and read.
  if (buffer.byteLength > maxBytes) {
    limitExceeded(path, "the file size in bytes", buffer.byteLength, limitName, maxBytes);
  }
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** @internal Reads a UTF-8 text file of at most `maxBytes` bytes and returns its non-blank lines, trimmed. */
export function readLines(
  path: string,
  hint: string,
  maxBytes: number = DEFAULT_DATASET_LIMITS.maxTextBytes,
): string[] {
  const text = new TextDecoder().decode(readFileOrThrow(path, hint, maxBytes, "maxTextBytes"));
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/** @internal Returns the first candidate (joined onto `root`) that is a file, or undefined. */
export function firstExisting(root: string, candidates: readonly string[]): string | undefined {
  for (const candidate of candidates) {
    const path = resolve(root, candidate);
    if (isFile(path)) return path;
  }
  return undefined;
}

/**
 * @internal Resolves `name` (taken from a file inside a dataset) below `root`, rejecting absolute paths and
 * names that escape the root (`../`), so an annotation file cannot make a reader open arbitrary files.
 */
export function resolveInside(root: string, name: string, source: string): string {
  const base = resolve(root);
  const path = resolve(base, name);
  const rel = relative(base, path);
  if (isAbsolute(name) || rel === "" || rel.startsWith("..") || isAbsolute(rel) || name.includes("\0")) {
    throw datasetError(
      "INVALID_DATASET_FILE",
      `${source}: the name ${JSON.stringify(name)} points outside the dataset folder ${base}`,
      source,
    );
  }
  return path;
}

/** @internal Throws `DATASET_NOT_FOUND` when `root` is not a directory, with a hint where to get the data. */
export function requireDirectory(root: string, dataset: string, hint: string): string {
  const path = resolve(root);
  if (!isDirectory(path)) {
    throw datasetError(
      "DATASET_NOT_FOUND",
      `${dataset}: dataset folder ${path} does not exist. ${hint}`,
      path,
    );
  }
  return path;
}

/**
 * @internal Rejects a name from a dataset file that is absolute or has a `..` segment, i.e. one that could leave
 * the dataset root (used where entries are not files on disk, e.g. inside a zip).
 */
export function checkRelativeName(name: string, source: string): void {
  if (
    name.length === 0 ||
    /^[\\/]|^[A-Za-z]:/.test(name) ||
    name.split(/[\\/]/).includes("..") ||
    name.includes("\0")
  ) {
    throw datasetError(
      "INVALID_DATASET_FILE",
      `${source}: the name ${JSON.stringify(name)} points outside the dataset folder`,
      source,
    );
  }
}
