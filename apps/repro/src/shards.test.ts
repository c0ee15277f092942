import { describe, expect, it } from "vitest";
import { loadExperiments } from "./config/experiments";
import { resolvePreset } from "./config/presets";
import { planRuns } from "./plan";
import { shardRuns } from "./shards";

describe("shardRuns", () => {
  const preset = resolvePreset("smoke");
  const runs = planRuns(preset, loadExperiments(), [0, 1, 2]);
  const units = (run: (typeof runs)[number]) => (run.task === "source" ? 10 : 3);

  it("gives every run to exactly one worker and keeps each source run with the runs that load its model", () => {
    const shards = shardRuns(runs, 2, units);
    const owner = new Map<string, number>();
    shards.forEach((keys, index) => {
      for (const key of keys) {
        expect(owner.has(key), key).toBe(false);
        owner.set(key, index);
      }
    });
    expect(owner.size).toBe(runs.length);
    for (const run of runs) {
      if (run.sourceKey !== null) expect(owner.get(run.key), run.name).toBe(owner.get(run.sourceKey));
    }
  });

  it("balances the planned work within one chain's size, and is the same in every process", () => {
    const shards = shardRuns(runs, 2, units);
    const load = shards.map((keys) => runs.filter((r) => keys.has(r.key)).reduce((n, r) => n + units(r), 0));
    const biggestChain = Math.max(
      ...runs.map((root) =>
        runs.filter((r) => r.key === root.key || r.sourceKey === root.key).reduce((n, r) => n + units(r), 0),
      ),
    );
    expect(Math.abs((load[0] ?? 0) - (load[1] ?? 0))).toBeLessThanOrEqual(biggestChain);
    expect(shardRuns(runs, 2, units).map((s) => [...s].sort())).toEqual(shards.map((s) => [...s].sort()));
    expect(shardRuns(runs, 1, units)[0]?.size).toBe(runs.length);
  });
});
