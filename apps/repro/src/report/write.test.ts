import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resolvePreset } from "../config/presets";
import type { Experiment } from "../config/schema";
import type { PlannedRun } from "../plan";
import { type RunResult, writeResult } from "../results";
import { fakeResult, syntheticExperiments } from "./test-results";
import { writeReport } from "./write";

const preset = resolvePreset("smoke");
const experiments = Object.values(syntheticExperiments());
const byId = (id: string) => experiments.find((e) => e.id === id) as Experiment;
const out = mkdtempSync(join(tmpdir(), "kora-report-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function curve(steps: number): RunResult["curve"] {
  return Array.from({ length: steps }, (_, i) => ({ step: i + 1, loss: 2 / (i + 1) }));
}

describe("writeReport", () => {
  const controls = byId("mixed");
  const e43 = byId("4.3");
  const list: RunResult[] = [];
  for (const seed of [0, 1]) {
    for (const variant of controls.variants) {
      const gates =
        variant.id === "lora-r8"
          ? [0, 1].flatMap((block) => [
              {
                block,
                name: `layers.${block}.kora.gate`,
                mean: 0.1 * (block + 1),
                absMean: 0.1 * (block + 1) + 0.01 * seed,
              },
              // A second gate in the same block (gated LoRA has one per projection): a row of its own.
              { block, name: `layers.${block}.value.gate`, mean: -0.5, absMean: 0.5 },
            ])
          : [];
      const r = fakeResult(preset, controls, variant.id, seed, { accuracy: 50 + seed }, { gates });
      r.curve = curve(variant.task === "source" ? 100 : 7);
      r.timings = { totalSeconds: 10, trainSeconds: 9, evalSeconds: 1 };
      list.push(r);
    }
    for (const variant of e43.variants) {
      const matrix = [
        [1, 0.5],
        [0.5, 1],
      ];
      list.push(
        fakeResult(
          preset,
          e43,
          variant.id,
          seed,
          { distantCka: 0.5 },
          { all: matrix, selected: matrix, blocks: [0, 1] },
        ),
      );
    }
  }
  const unique = new Map(list.map((r) => [r.key, r]));
  for (const r of unique.values()) writeResult(out, r);
  const runs = [...unique.values()].map((r) => ({ key: r.key }) as PlannedRun);
  const backbone = {
    path: "x",
    hash: "h",
    cached: true,
    seconds: 0,
    pretrainAccuracy: null,
    description: "test",
  };
  const input = { out, preset, experiments: [controls, e43], runs, seeds: [0, 1], backbone, backend: "wasm" };

  it("draws one loss plot per task, one heatmap when the selected blocks are all blocks, and keeps the first timings", {
    timeout: 60_000,
  }, async () => {
    const first = await writeReport({
      ...input,
      wallSeconds: 321,
      counts: { ran: runs.length, skipped: 0, failed: 0 },
    });
    const second = await writeReport({
      ...input,
      wallSeconds: 2,
      counts: { ran: 0, skipped: runs.length, failed: 0 },
    });
    expect(second.markdown).toBe(first.markdown);
    expect(second.html).toBe(first.html);
    const figures = readdirSync(join(out, "figures")).sort();
    expect(figures.filter((f) => f.startsWith("curves-"))).toEqual([
      "curves-mixed-source.svg",
      "curves-mixed-transfer.svg",
    ]);
    // Each plot's x axis ends at its own last step.
    const source = readFileSync(join(out, "figures", "curves-mixed-source.svg"), "utf8");
    const transfer = readFileSync(join(out, "figures", "curves-mixed-transfer.svg"), "utf8");
    expect(source).toMatch(/text-anchor="end">100</);
    expect(transfer).toMatch(/text-anchor="end">7</);
    // Full legend labels, never cut with an ellipsis.
    for (const variant of controls.variants.filter((v) => v.task === "transfer")) {
      expect(transfer).toContain(variant.label.replace(/&/g, "&#38;"));
    }
    expect(transfer).not.toContain("…");
    expect(figures.filter((f) => f.startsWith("cka-") && f.endsWith(".svg"))).toEqual([
      "cka-kora-dcomp4-selected.svg",
      "cka-lora-r8-selected.svg",
    ]);
    const markdown = readFileSync(second.markdown, "utf8");
    // The re-run reused every run: the report still shows the runs' own time and the invocation that ran them.
    const recorded = [...unique.values()].reduce((sum, r) => sum + r.timings.totalSeconds, 0);
    expect(markdown).toContain(`(${recorded.toFixed(1)} s) in the plan's completed runs`);
    expect(markdown).toContain("(321.0 s, ");
    expect(markdown).toContain("Wall time of this invocation: ");
    expect(markdown).toContain("## Checks");
    expect(markdown).toContain("## What the paper's own numbers say");
    // Where the gates ended, per block, mean |g| over the two seeds.
    expect(markdown).toContain("| Variant | Gate | Seeds | block 0 | block 1 |");
    expect(markdown).toContain("| LoRA (r=8) | kora.gate | 2 | 0.105 | 0.205 |");
    expect(markdown).toContain("| LoRA (r=8) | value.gate | 2 | 0.500 | 0.500 |");
    const html = readFileSync(second.html, "utf8");
    expect(html).toContain("<td>kora.gate</td><td>2</td><td>0.105</td><td>0.205</td>");
    expect(html).toContain('id="paper-audit"');
    expect(html).toContain('id="checks"');
  });
});
