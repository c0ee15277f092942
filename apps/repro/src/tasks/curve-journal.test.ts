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
});
