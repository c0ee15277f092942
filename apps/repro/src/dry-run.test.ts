import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolvePreset } from "./config/presets";
import { duration, runImages } from "./dry-run";
import { main } from "./main";
import type { PlannedRun } from "./plan";

function run(task: PlannedRun["task"], kind: "adapter" | "full" | "head-only" | "pixel-probe"): PlannedRun {
  const method =
    kind === "adapter"
      ? { kind, adapter: { method: "lora" as const, rank: 8 } }
      : ({ kind } as PlannedRun["method"]);
  return {
    key: "k",
    task,
    method,
    seed: 0,
    shuffleLabels: false,
    protocol: "source-adapted",
    sourceKey: null,
    name: `${task} ${kind}`,
    usedBy: [],
  } as PlannedRun;
}

describe("kora-repro --dry-run", () => {
  it("the paper preset's work per run, without its files: CIFAR-100 × 5 epochs, 1 % of Tiny-ImageNet, 1 % of NYU", () => {
    const preset = resolvePreset("paper", { checkFiles: false });
    expect(preset.notes.some((note) => note.startsWith("missing: --data-root"))).toBe(true);
    expect(() => resolvePreset("paper")).toThrow(/needs files that are not there/);
    expect(runImages(preset, run("source", "adapter"))).toEqual({ adapter: 250_000, forward: 10_000 });
    expect(runImages(preset, run("source", "full"))).toEqual({ full: 250_000, forward: 10_000 });
    expect(runImages(preset, run("transfer", "head-only"))).toEqual({ "head-only": 1_000, forward: 10_000 });
    expect(runImages(preset, run("dense", "adapter"))).toEqual({ adapter: 8 * 5, forward: 654 });
    expect(runImages(preset, run("cka", "adapter"))).toEqual({ forward: 2 * 1000 });
    expect(runImages(preset, run("source", "pixel-probe"))).toEqual({});
  });

  it("formats durations from seconds to days", () => {
    expect(duration(7.25)).toBe("7.3 s");
    expect(duration(200)).toBe("3 min 20 s");
    expect(duration(3900)).toBe("1 h 05 min");
    expect(duration(5 * 86_400)).toBe("5.0 days");
  });

  it("prints the smoke preset's plan and an estimate, trains nothing and writes no results", async () => {
    let stdout = "";
    const cwd = process.cwd();
    const folder = mkdtempSync(join(tmpdir(), "kora-dry-run-"));
    process.chdir(folder);
    try {
      const code = await main(["--preset", "smoke", "--dry-run", "--only", "4.1", "--seeds", "1"], {
        stdout: (text) => {
          stdout += text;
        },
        stderr: () => {},
      });
      expect(code).toBe(0);
    } finally {
      process.chdir(cwd);
    }
    expect(readdirSync(folder)).toEqual([]);
    const runs = Number(/; (\d+) runs/.exec(stdout)?.[1]);
    expect(runs).toBeGreaterThan(3);
    expect(stdout.match(/^source /gm)?.length).toBe(runs);
    expect(stdout).toMatch(/adapter [\d.]+ img\/s, full [\d.]+ img\/s, head-only [\d.]+ img\/s, forward/);
    expect(stdout).toMatch(/estimated wall time: [\d.]+ (s|min)/);
  });
});
