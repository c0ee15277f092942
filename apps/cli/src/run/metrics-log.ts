import { existsSync, readFileSync, writeFileSync } from "node:fs";

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
 * a line torn by a full disk or a crash mid-write must not block every later resume. The file is rewritten
 * whole, so a torn last line without its newline cannot glue itself to the next one.
 */
export function trimMetricsLog(path: string, firstStep: number): TrimmedLog {
  if (!existsSync(path)) return { kept: 0, unreadable: [], missing: [] };
  const seen = new Set<number>();
  const kept: string[] = [];
  const unreadable: number[] = [];
  readFileSync(path, "utf8")
    .split("\n")
    .forEach((line, index) => {
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
  writeFileSync(path, kept.map((line) => `${line}\n`).join(""));
  // Only the last step is checked. The engine now reports a step before it writes the step's checkpoint, so a
  // crash in between leaves the log ahead of the checkpoint (trimmed above and replayed); a run written by an
  // earlier version, which checkpointed first, can still lack the line of the step it resumes after.
  const missing = kept.length > 0 && firstStep > 1 && !seen.has(firstStep - 1) ? [firstStep - 1] : [];
  return { kept: kept.length, unreadable, missing };
}
