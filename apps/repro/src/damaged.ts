import { existsSync, mkdirSync, readFileSync, renameSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { KoraError } from "@kora/spec";

/** The folder of a results folder that damaged files are moved to: `<out>/damaged/<timestamp>/`. */
export const DAMAGED_FOLDER = "damaged";

/**
 * Moves damaged files (or folders) of a results folder aside, never deleting them: each to
 * `<out>/damaged/<timestamp>/<its path under out>`, so the run that wrote them can be redone while they stay there to
 * inspect. A path already gone (another worker moved it first) is passed over; a name already taken in the target
 * folder gets a `.1`, `.2`, … suffix.
 *
 * @returns where each path went (`null` for one that was already gone), in the order given.
 * @throws KoraError `IO_ERROR` naming the file when it cannot be moved (then it is left where it is, and the caller
 *   cannot repair the run: the message says to move or delete it by hand).
 */
export function setAside(out: string, paths: readonly string[], reason: string): (string | null)[] {
  const root = resolve(out);
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const folder = join(root, DAMAGED_FOLDER, stamp);
  return paths.map((path) => {
    const from = resolve(path);
    const under = relative(root, from);
    // Everything the harness sets aside lies under its results folder; anything else keeps only its name.
    const name = under === "" || under.startsWith("..") || isAbsolute(under) ? basename(from) : under;
    let to = join(folder, name);
    for (let n = 1; existsSync(to); n++) to = join(folder, `${name}.${n}`);
    try {
      mkdirSync(dirname(to), { recursive: true });
      renameSync(from, to);
      return to;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" && !existsSync(from)) return null;
      throw new KoraError({
        code: "IO_ERROR",
        message: `${from} is damaged (${reason}) and cannot be moved aside to ${to} (${code ?? (error as Error).message}): move or delete it, then run again`,
        path: from,
        cause: error,
      });
    }
  });
}

/** A line for the log (the harness's progress output). */
export type Warn = (line: string) => void;

/** What {@link readCheckedJson} found: no file, a value that passed the check, or a damaged file and why. */
export type CheckedJson<T> =
  | { kind: "missing" }
  | { kind: "valid"; value: T }
  | { kind: "damaged"; reason: string };

/** The largest per-run file the harness reads (a result with a curve of a million steps is far smaller). */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

/**
 * Reads a JSON file the harness wrote and checks its shape, in time and memory bounded by its size: a missing file
 * is `missing`; anything else that is not a regular file, an empty file, one over {@link MAX_RECORD_BYTES}, text
 * that is not JSON (a torn write) or JSON that `check` rejects is `damaged`, with the reason. Never throws.
 *
 * @param check returns why the parsed value is not what the file should hold, or `null` when it is.
 */
export function readCheckedJson<T>(path: string, check: (value: unknown) => string | null): CheckedJson<T> {
  let size: number;
  try {
    const info = statSync(path);
    if (!info.isFile()) return { kind: "damaged", reason: "it is not a regular file" };
    size = info.size;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT"
      ? { kind: "missing" }
      : { kind: "damaged", reason: `it cannot be read (${code})` };
  }
  if (size === 0) return { kind: "damaged", reason: "it is empty (0 bytes)" };
  if (size > MAX_RECORD_BYTES) {
    return {
      kind: "damaged",
      reason: `it is ${size} bytes, more than such a file can be (${MAX_RECORD_BYTES})`,
    };
  }
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      kind: "damaged",
      reason:
        code === undefined
          ? `it is not valid JSON (${(error as Error).message.slice(0, 200)})`
          : `it cannot be read (${code})`,
    };
  }
  const problem = check(value);
  return problem === null ? { kind: "valid", value: value as T } : { kind: "damaged", reason: problem };
}

/**
 * Moves a damaged file aside ({@link setAside}) and says so: which file, what is wrong with it, where it went and
 * what happens next (`then`, e.g. "its run runs again").
 */
export function reportDamaged(out: string, path: string, reason: string, then: string, warn: Warn): void {
  const [to] = setAside(out, [path], reason);
  warn(
    to === null || to === undefined
      ? `warning: ${path} was damaged (${reason}) and another process moved it aside; ${then}`
      : `warning: ${path} is damaged (${reason}); moved it to ${to}; ${then}`,
  );
}

/** A value for a message: JSON, at most 60 characters; `missing` for undefined. */
export function shown(value: unknown): string {
  if (value === undefined) return "missing";
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
