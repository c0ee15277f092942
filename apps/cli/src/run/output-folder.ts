import { mkdir, rmdir, stat } from "node:fs/promises";
import { dirname, resolve, sep } from "node:path";
import { KoraError } from "@kora/spec";
import { writeFileAtomic } from "@kora/spec/node";

/** How many missing folders an output path may add: deeper is a typo, not a layout. */
const MAX_NEW_LEVELS = 32;

function ioError(path: string, flag: string, what: string, cause: unknown): KoraError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return new KoraError({
    code: code === "ENOSPC" || code === "EDQUOT" ? "DISK_FULL" : "IO_ERROR",
    message: `${flag}: cannot create ${path}: ${what}${code === undefined ? "" : ` (${code})`}`,
    cause,
  });
}

async function kind(path: string): Promise<"folder" | "other" | null> {
  try {
    return (await stat(path)).isDirectory() ? "folder" : "other";
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

/** An empty output path is `INVALID_PATH` (joined with a file name it would silently mean the current folder). */
export function checkNotEmpty(path: string, flag = "--out"): void {
  if (path.trim() === "") {
    throw new KoraError({ code: "INVALID_PATH", message: `${flag}: the path is empty; give a folder` });
  }
}

/**
 * Makes sure `path` is a folder that exists, creating it and its missing parents one level at a time. Node's
 * recursive `mkdir` retries forever on some virtual file systems (`/proc/self/x` spins at 100 % CPU), so each
 * level is created once and any failure is final: a typed error naming the path, at once.
 *
 * @returns the absolute path and the folders created, outermost first (for {@link removeCreatedFolders}).
 * @throws KoraError `INVALID_PATH` for an empty path or one whose existing part is a file, `IO_ERROR` (or
 * `DISK_FULL`) when a folder cannot be created (read-only file system, no permission).
 */
export async function prepareOutputFolder(
  path: string,
  flag = "--out",
): Promise<{ path: string; created: string[] }> {
  checkNotEmpty(path, flag);
  const absolute = resolve(path);
  const missing: string[] = [];
  let current = absolute;
  for (;;) {
    let found: "folder" | "other" | null;
    try {
      found = await kind(current);
    } catch (error) {
      throw ioError(absolute, flag, `${current} cannot be read`, error);
    }
    if (found === "folder") break;
    if (found === "other") {
      throw new KoraError({
        code: "INVALID_PATH",
        message: `${flag}: ${current} exists and is not a folder${current === absolute ? "" : ` (a parent of ${absolute})`}`,
      });
    }
    missing.unshift(current);
    const parent = dirname(current);
    if (parent === current || missing.length > MAX_NEW_LEVELS) {
      throw new KoraError({
        code: "INVALID_PATH",
        message: `${flag}: ${absolute}: no existing parent folder within ${MAX_NEW_LEVELS} levels`,
      });
    }
    current = parent;
  }
  for (const folder of missing) {
    try {
      await mkdir(folder);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST" && (await kind(folder)) === "folder") continue;
      throw ioError(absolute, flag, `making ${folder} failed`, error);
    }
  }
  return { path: absolute, created: missing };
}

/**
 * Removes the folders {@link prepareOutputFolder} created, innermost first, where they are still empty: a command
 * that fails before writing anything leaves no trace. A folder that holds anything is kept.
 */
export async function removeCreatedFolders(created: readonly string[]): Promise<void> {
  for (const folder of [...created].reverse()) {
    try {
      await rmdir(folder);
    } catch {
      return; // not empty (or gone): keep it and its parents
    }
  }
}

/** A file a command writes, and the flag that named it (for messages). */
export interface OutputFile {
  path: string;
  flag: string;
}

/**
 * Checks the files a command will write, before it does any work: an empty path, one that ends in a separator or
 * names an existing folder is `INVALID_PATH`; files that exist already are `OUTPUT_EXISTS` naming every one of
 * them, unless `force` (a command does not silently replace files it did not write). A parent that is a file is
 * left to {@link prepareOutputFolder}, which names it.
 */
export async function checkOutputFiles(
  files: readonly OutputFile[],
  force: boolean | undefined,
): Promise<void> {
  const existing: OutputFile[] = [];
  for (const file of files) {
    const { path, flag } = file;
    if (path.trim() === "") {
      throw new KoraError({ code: "INVALID_PATH", message: `${flag}: the path is empty; give a file name` });
    }
    if (path.endsWith("/") || path.endsWith(sep)) {
      throw new KoraError({
        code: "INVALID_PATH",
        message: `${flag}: ${path} ends in a path separator; give a file name`,
      });
    }
    let found: "folder" | "other" | null;
    try {
      found = await kind(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOTDIR") continue;
      const code = (error as NodeJS.ErrnoException).code;
      throw new KoraError({
        code: "IO_ERROR",
        message: `${flag}: cannot examine ${path}${code === undefined ? "" : ` (${code})`}`,
        cause: error,
      });
    }
    if (found === "folder") {
      throw new KoraError({
        code: "INVALID_PATH",
        message: `${flag}: ${path} is a folder; give the name of the file to write`,
      });
    }
    if (found === "other") existing.push(file);
  }
  if (existing.length > 0 && force !== true) {
    const flags = [...new Set(existing.map((file) => file.flag))].join("/");
    const one = existing.length === 1;
    throw new KoraError({
      code: "OUTPUT_EXISTS",
      message: `${flags}: ${existing.map((file) => file.path).join(" and ")} already exist${one ? "s" : ""}; choose another ${flags}, or add --force to replace ${one ? "it" : "them"}`,
    });
  }
}

/**
 * A failed write as a `KoraError` naming the file: `DISK_FULL` for ENOSPC / EDQUOT, `IO_ERROR` for any other
 * file-system error.
 */
export function writeError(path: string, flag: string, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  // A KoraError, or anything but a file-system error (a bug), passes through unchanged.
  if (KoraError.isInstance(error) || typeof code !== "string") return error;
  const full = code === "ENOSPC" || code === "EDQUOT";
  return new KoraError({
    code: full ? "DISK_FULL" : "IO_ERROR",
    message: full
      ? `${flag}: cannot write ${path}: the disk is full (${code})`
      : `${flag}: cannot write ${path} (${code})`,
    cause: error,
  });
}

/**
 * Writes an output file atomically (`writeFileAtomic`: a temporary file beside it, renamed over it, so a failure
 * never leaves a partial file), with a failure as {@link writeError}. Its folder must exist
 * ({@link prepareOutputFolder}).
 */
export async function writeOutputFile(path: string, data: string | Uint8Array, flag: string): Promise<void> {
  try {
    await writeFileAtomic(path, data);
  } catch (error) {
    throw writeError(path, flag, error);
  }
}
