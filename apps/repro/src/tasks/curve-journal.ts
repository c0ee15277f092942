import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
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
  return {
    append(point) {
      mkdirSync(dir, { recursive: true });
      appendFileSync(path, `${JSON.stringify(point)}\n`);
    },
    before(step) {
      if (!existsSync(path)) return [];
      const byStep = new Map<number, JournalEntry>();
      for (const line of readFileSync(path, "utf8").split("\n")) {
        // A torn last line (the process was killed while appending) is skipped: its step is past any checkpoint.
        let point: JournalEntry;
        try {
          point = JSON.parse(line) as JournalEntry;
        } catch {
          continue;
        }
        if (Number.isInteger(point?.step) && point.step <= step) byStep.set(point.step, point);
      }
      return [...byStep.values()].sort((a, b) => a.step - b.step);
    },
    covers(step) {
      return this.before(step).length === step;
    },
  };
}
