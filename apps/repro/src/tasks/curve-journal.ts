import {
  appendFileSync,
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
} from "node:fs";
import { join } from "node:path";
import type { GatePoint } from "./training";
import type { CurvePoint } from "./types";

/** One step of the journal: its loss, and the gates' point when the step recorded one. */
export interface JournalEntry extends CurvePoint {
  gates?: GatePoint;
}

/** The journal of a run's loss curve, kept in its checkpoint folder (and removed with it when the run completes). */
export interface CurveJournal {
  /** Records one optimizer step's loss (one line, appended, so a killed process loses at most that line). */
  append(point: JournalEntry): void;
  /** The recorded points of steps 1…`step` in step order, one per step (a step recorded twice keeps its last). */
  before(step: number): JournalEntry[];
  /** Whether every step 1…`step` is recorded. */
  covers(step: number): boolean;
  /** What keeps the journal from covering `step` (missing steps, lines that are not entries), or null when it does. */
  gap(step: number): string | null;
}

/** The step of the newest complete checkpoint in a run's checkpoint folder (one with its manifest), or null. */
export function newestCheckpointStep(dir: string): number | null {
  if (!existsSync(dir)) return null;
  let newest: number | null = null;
  for (const name of readdirSync(dir)) {
    const match = /^checkpoint-(\d+)\.manifest\.json$/.exec(name);
    if (match !== null) newest = Math.max(newest ?? 0, Number(match[1]));
  }
  return newest;
}

/**
 * A run's loss-curve journal in `<checkpointDir>/curve.jsonl`. Training resumes from a checkpoint onto the same
 * weights, but the losses of the steps before it were only in the memory of the process that ran them; the journal
 * keeps them beside the checkpoint so the resumed run's curve is the whole run's. The checkpoint engine reads only
 * its own `checkpoint-*` files, so the journal does not disturb it.
 */
export function curveJournal(dir: string): CurveJournal {
  const path = join(dir, "curve.jsonl");
  let tailChecked = false;
  const read = (step: number): { entries: JournalEntry[]; badLines: number[]; unreadable: string | null } => {
    const byStep = new Map<number, JournalEntry>();
    const badLines: number[] = [];
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return { entries: [], badLines, unreadable: code === "ENOENT" ? null : (code ?? "unreadable") };
    }
    const lines = text.split("\n");
    lines.forEach((line, index) => {
      // The last line is empty after a complete append, or torn (the process was killed while appending): its step
      // is past any checkpoint. Any other line that is not an entry is damage.
      let point: JournalEntry | null = null;
      try {
        point = JSON.parse(line) as JournalEntry;
      } catch {
        // not an entry
      }
      const valid =
        point !== null &&
        typeof point === "object" &&
        Number.isInteger(point.step) &&
        point.step >= 1 &&
        typeof point.loss === "number";
      if (!valid) {
        if (index < lines.length - 1) badLines.push(index + 1);
        return;
      }
      if ((point as JournalEntry).step <= step)
        byStep.set((point as JournalEntry).step, point as JournalEntry);
    });
    return { entries: [...byStep.values()].sort((a, b) => a.step - b.step), badLines, unreadable: null };
  };
  return {
    append(point) {
      mkdirSync(dir, { recursive: true });
      if (!tailChecked) {
        // A process killed while appending leaves a torn last line: end it, so this entry starts a line of its own
        // instead of joining the torn one (which would lose this step from the journal).
        tailChecked = true;
        if (!endsWithNewline(path)) appendFileSync(path, "\n");
      }
      appendFileSync(path, `${JSON.stringify(point)}\n`);
    },
    before(step) {
      return read(step).entries;
    },
    covers(step) {
      return this.before(step).length === step;
    },
    gap(step) {
      const { entries, badLines, unreadable } = read(step);
      if (entries.length === step) return null;
      if (unreadable !== null) return `${path} cannot be read (${unreadable})`;
      const have = new Set(entries.map((entry) => entry.step));
      const missing: number[] = [];
      for (let s = 1; s <= step && missing.length < 6; s++) if (!have.has(s)) missing.push(s);
      const steps = `${path} lacks step${step - entries.length === 1 ? "" : "s"} ${missing.slice(0, 5).join(", ")}${
        step - entries.length > 5 ? ", …" : ""
      } (${step - entries.length} of ${step})`;
      return badLines.length === 0
        ? steps
        : `${steps}; line${badLines.length === 1 ? "" : "s"} ${badLines.slice(0, 5).join(", ")}${
            badLines.length > 5 ? ", …" : ""
          } ${badLines.length === 1 ? "is" : "are"} not an entry`;
    },
  };
}

/** Whether the file at `path` is missing, empty or ends with a newline (reads its last byte only). */
function endsWithNewline(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return true;
  }
  try {
    const { size } = fstatSync(fd);
    if (size === 0) return true;
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] === 0x0a;
  } catch {
    // Not a file that can be read (then the append itself reports it).
    return true;
  } finally {
    closeSync(fd);
  }
}
