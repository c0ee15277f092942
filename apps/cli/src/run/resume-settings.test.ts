import { isDeepStrictEqual } from "node:util";
import { describe, expect, it } from "vitest";
import { runFingerprint } from "./fingerprint";
import { resumedSettings, withoutUnrecorded } from "./resume-flags";
import type { RunFile, TrainSettings } from "./run-file";

/** A run.json as `kora train` writes it, with the settings under test. */
function runWith(training: TrainSettings): RunFile {
  return {
    format: "kora-run",
    version: 1,
    kora: "0.0.0",
    command: "train",
    task: "classification",
    backbone: { preset: "vit-micro", seed: 3 },
    backboneChecksum: 123.5,
    head: { kind: "classification", classes: 10 },
    dataset: { name: "synthetic-source", split: "train", examples: 400, classes: ["a", "b", "c"] },
    spec: { method: "lora", rank: 4 } as RunFile["spec"],
    training,
    totalSteps: 4,
    status: "completed",
    step: 4,
    loss: 1,
    started: "2026-12-01T00:00:00.000Z",
    updated: "2026-12-01T00:01:00.000Z",
  };
}

const base = { batchSize: 8, lr: 0.002, weightDecay: 0.01, warmup: 0, seed: 3, steps: 4 };

/** The fingerprint a resume computes equals the one the run's checkpoints were written with. */
async function resumesWithSameFingerprint(previous: RunFile, flags: Parameters<typeof resumedSettings>[1]) {
  const settings = resumedSettings(previous, flags);
  return {
    settings,
    // Deep equality, key order aside: the engine hashes the fingerprint's canonical JSON (keys sorted).
    same: isDeepStrictEqual(
      await runFingerprint({ ...previous, training: settings }),
      await runFingerprint(previous),
    ),
  };
}

describe("resumedSettings: a resume keeps the run's fingerprint", () => {
  it("leaves a run written before --gate-lr-multiplier without one (its gates trained at 1×)", async () => {
    const old = runWith({ ...base });
    const { settings, same } = await resumesWithSameFingerprint(old, { steps: 8 });
    expect(settings).not.toHaveProperty("gateLrMultiplier");
    expect(settings.steps).toBe(8);
    expect(same).toBe(true);
    // Repeating the default on the command line is the same run, not a new setting.
    const repeated = await resumesWithSameFingerprint(old, { steps: 8, gateLrMultiplier: 1 });
    expect(repeated.settings).not.toHaveProperty("gateLrMultiplier");
    expect(repeated.same).toBe(true);
  });

  it("keeps a recorded multiplier, 1 or not", async () => {
    for (const gateLrMultiplier of [1, 10]) {
      const { settings, same } = await resumesWithSameFingerprint(runWith({ ...base, gateLrMultiplier }), {
        steps: 8,
      });
      expect(settings.gateLrMultiplier).toBe(gateLrMultiplier);
      expect(same).toBe(true);
    }
  });

  it("leaves a run without --head-lr without one, and switches epochs for steps", async () => {
    const { steps: _steps, ...rest } = base;
    const run = runWith({ ...rest, epochs: 2, gateLrMultiplier: 1 });
    const { settings, same } = await resumesWithSameFingerprint(run, { steps: 9, headLr: 0.002 });
    expect(settings).not.toHaveProperty("headLr");
    expect(settings).not.toHaveProperty("epochs");
    expect(settings.steps).toBe(9);
    expect(same).toBe(true);
  });

  it("a changed setting still changes the fingerprint (the resume is then refused)", async () => {
    const run = runWith({ ...base, gateLrMultiplier: 1 });
    const { same } = await resumesWithSameFingerprint(run, { lr: 0.1 });
    expect(same).toBe(false);
  });
});

describe("withoutUnrecorded (kora transfer --resume)", () => {
  it("drops a default multiplier the run did not record and keeps every other", () => {
    const filled = { ...base, gateLrMultiplier: 1 };
    expect(withoutUnrecorded(filled, { ...base })).not.toHaveProperty("gateLrMultiplier");
    expect(withoutUnrecorded(filled, { ...base, gateLrMultiplier: 1 })).toEqual(filled);
    expect(withoutUnrecorded({ ...base, gateLrMultiplier: 10 }, { ...base })).toEqual({
      ...base,
      gateLrMultiplier: 10,
    });
  });
});
