import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { curveJournal, newestCheckpointStep } from "./curve-journal";

const dir = mkdtempSync(join(tmpdir(), "kora-repro-curve-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("curveJournal", () => {
  it("returns the steps up to a checkpoint in order, one per step, past a torn last line", () => {
    const journal = curveJournal(join(dir, "run"));
    expect(journal.before(10)).toEqual([]);
    for (const step of [1, 2, 3, 4]) journal.append({ step, loss: 1 / step });
    // A resumed process ran steps 3-4 again (deterministically, the same losses), then was killed mid-line.
    for (const step of [3, 4]) journal.append({ step, loss: 1 / step });
    appendFileSync(join(dir, "run", "curve.jsonl"), '{"step":5,"lo');
    expect(journal.before(3)).toEqual([
      { step: 1, loss: 1 },
      { step: 2, loss: 0.5 },
      { step: 3, loss: 1 / 3 },
    ]);
    expect(journal.before(4).map((p) => p.step)).toEqual([1, 2, 3, 4]);
    expect(journal.covers(4)).toBe(true);
    expect(journal.covers(5)).toBe(false);
  });

  it("finds the newest checkpoint that has its manifest", () => {
    const run = join(dir, "checkpoints");
    expect(newestCheckpointStep(run)).toBeNull();
    mkdirSync(run);
    for (const name of [
      "checkpoint-000000030.safetensors",
      "checkpoint-000000030.manifest.json",
      "checkpoint-000000060.safetensors",
      "curve.jsonl",
    ]) {
      writeFileSync(join(run, name), "");
    }
    // Step 60's manifest was never written (killed while saving): 30 is the checkpoint a resume uses.
    expect(newestCheckpointStep(run)).toBe(30);
  });

  it("ends a torn last line before appending, so the next step's line is kept", () => {
    const run = join(dir, "torn");
    const journal = curveJournal(run);
    for (const step of [1, 2]) journal.append({ step, loss: 1 / step });
    appendFileSync(join(run, "curve.jsonl"), '{"step":3,"lo');
    // A new process (a resume) appends step 3 again.
    const resumed = curveJournal(run);
    resumed.append({ step: 3, loss: 1 / 3 });
    resumed.append({ step: 4, loss: 1 / 4 });
    expect(resumed.covers(4)).toBe(true);
    expect(resumed.gap(4)).toBeNull();
  });

  it("says what keeps it from covering a step: the missing steps and the lines that are not entries", () => {
    const run = join(dir, "gap");
    mkdirSync(run);
    const path = join(run, "curve.jsonl");
    writeFileSync(
      path,
      ['{"step":1,"loss":1}', '{"step":2,"lo', "[]", '{"step":4,"loss":"x"}', ""].join("\n"),
    );
    const journal = curveJournal(run);
    expect(journal.covers(1)).toBe(true);
    expect(journal.gap(1)).toBeNull();
    expect(journal.gap(4)).toBe(`${path} lacks steps 2, 3, 4 (3 of 4); lines 2, 3, 4 are not an entry`);
    expect(curveJournal(join(dir, "none")).gap(2)).toBe(
      `${join(dir, "none", "curve.jsonl")} lacks steps 1, 2 (2 of 2)`,
    );
  });
});
