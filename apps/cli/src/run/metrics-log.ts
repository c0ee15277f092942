import { randomBytes } from "node:crypto";
import {
  appendFileSync,
  existsSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { KoraError } from "@kora/spec";

/**
 * A failed write of a run file as a `KoraError` naming it: `DISK_FULL` for ENOSPC / EDQUOT (the disk or the
 * quota is full), `IO_ERROR` otherwise.
 */
export function writeFailure(path: string, what: string, error: unknown): KoraError {
  const code = (error as NodeJS.ErrnoException).code;
  const full = code === "ENOSPC" || code === "EDQUOT";
  return new KoraError({
    code: full ? "DISK_FULL" : "IO_ERROR",
    message: full
      ? `${path}: cannot ${what}, the disk is full (${code})`
      : `${path}: cannot ${what} (${code ?? (error as Error).message})`,
    path,
    cause: error,
  });
}

/**
 * Appends one line to a run's `metrics.jsonl`. When the write fails, the part of the line that was written is cut
 * off again (truncating needs no space), so the log holds whole lines only.
 *
 * @throws KoraError `DISK_FULL` (ENOSPC, EDQUOT) or `IO_ERROR` naming the file.
 */
export function appendMetricsLine(
  path: string,
  line: string,
  append: (path: string, text: string) => void = appendFileSync,
): void {
  let size: number | null = null;
  try {
    size = statSync(path).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") size = 0;
  }
  try {
    append(path, `${line}\n`);
  } catch (error) {
    if (size !== null) {
      try {
        truncateSync(path, size);
      } catch {
        // Nothing was written, or the file cannot be touched at all.
      }
    }
    throw writeFailure(path, "append a line to the metrics log", error);
  }
}

/** What {@link trimMetricsLog} kept and dropped. */
export interface TrimmedLog {
  kept: number;
  /** Lines that are not a JSON object with a numeric `step` (a write cut short), 1-based line numbers. */
  unreadable: number[];
  /** Steps before `firstStep` with no line (a process that died after a checkpoint, before logging its step). */
  missing: number[];
}

/**
 * Cuts a run's `metrics.jsonl` back to the steps before `firstStep` (a resumed run replays the steps after the
 * checkpoint it resumed from, which may be older than the log's last line), and drops lines that do not parse:
 * a line torn by a full disk or a crash mid-write must not block every later resume. When anything changes, the
 * file is replaced whole (a temporary file renamed over it, so a full disk leaves the old log), and a torn last
 * line without its newline cannot glue itself to the next one.
 *
 * @throws KoraError `IO_ERROR` when the log cannot be read; `DISK_FULL` / `IO_ERROR` naming it when it cannot be
 * rewritten (it is then left as it was).
 */
export function trimMetricsLog(path: string, firstStep: number): TrimmedLog {
  if (!existsSync(path)) return { kept: 0, unreadable: [], missing: [] };
  const seen = new Set<number>();
  const kept: string[] = [];
  const unreadable: number[] = [];
  let original: string;
  try {
    original = readFileSync(path, "utf8");
  } catch (error) {
    throw new KoraError({
      code: "IO_ERROR",
      message: `${path}: cannot read the metrics log (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      path,
      cause: error,
    });
  }
  original.split("\n").forEach((line, index) => {
    if (line.trim() === "") return;
    let step: unknown;
    try {
      const value = JSON.parse(line) as unknown;
      step = value !== null && typeof value === "object" ? (value as { step?: unknown }).step : undefined;
    } catch {
      step = undefined;
    }
    if (typeof step !== "number" || !Number.isFinite(step)) unreadable.push(index + 1);
    else if (step < firstStep) {
      kept.push(line);
      seen.add(step);
    }
  });
  const text = kept.map((line) => `${line}\n`).join("");
  if (text !== original) {
    const temp = join(
      dirname(path),
      `.${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`,
    );
    try {
      writeFileSync(temp, text, { flag: "wx" });
      renameSync(temp, path);
    } catch (error) {
      rmSync(temp, { force: true });
      throw writeFailure(path, "rewrite the metrics log", error);
    }
  }
  // Only the last step is checked. The engine now reports a step before it writes the step's checkpoint, so a
  // crash in between leaves the log ahead of the checkpoint (trimmed above and replayed); a run written by an
  // earlier version, which checkpointed first, can still lack the line of the step it resumes after.
  const missing = kept.length > 0 && firstStep > 1 && !seen.has(firstStep - 1) ? [firstStep - 1] : [];
  return { kept: kept.length, unreadable, missing };
}
