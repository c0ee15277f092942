import { mkdir, rmdir, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { KoraError } from "@kora/spec";

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
  if (path.trim() === "") {
    throw new KoraError({ code: "INVALID_PATH", message: `${flag}: the path is empty; give a folder` });
  }
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
