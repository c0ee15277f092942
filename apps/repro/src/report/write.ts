import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { heatmapSvg } from "@kora/metrics";
import { loadChecks, loadClaims } from "../claims";
import type { Preset } from "../config/presets";
import type { Experiment } from "../config/schema";
import { readCheckedJson, reportDamaged } from "../damaged";
import type { PlannedRun } from "../plan";
import { gitState, type RunResult, readAllResults } from "../results";
import type { BackboneInfo } from "../tasks/backbone";
import { buildReport } from "./build";
import { type CrossModelCka, crossModelCka } from "./cross-cka";
import { assessFindings, loadFindings } from "./findings";
import { type Figure, type Provenance, renderHtml, renderMarkdown } from "./render";
import { curvesSvg, gateTrajectorySvg, rateAccuracySvg } from "./svg";

/** Input of {@link writeReport}. */
export interface WriteReportInput {
  out: string;
  preset: Preset;
  experiments: readonly Experiment[];
  runs: readonly PlannedRun[];
  seeds: readonly number[];
  backbone: BackboneInfo;
  backend: string;
  wallSeconds: number;
  counts: { ran: number; skipped: number; failed: number };
  /** Warnings (a damaged result or feature file moved aside); default: stderr. */
  log?: ((line: string) => void) | undefined;
}

/** Rasterises an SVG to PNG with sharp when it can be loaded; returns false otherwise. */
async function writePng(svg: string, path: string): Promise<boolean> {
  try {
    const sharp = (await import("sharp")).default;
    await sharp(Buffer.from(svg), { density: 144 }).png().toFile(path);
    return true;
  } catch {
    return false;
  }
}

/** One invocation of the harness on an output folder, as `<out>/invocations.json` keeps it. */
interface Invocation {
  at: string;
  wallSeconds: number;
  ran: number;
  skipped: number;
  failed: number;
}

/**
 * Appends this invocation to `<out>/invocations.json` and returns the list. A re-run of a finished plan reuses
 * every run (and its recorded timings); keeping the invocations lets the report show the time the plan took when
 * it ran, instead of only the seconds a re-run spends writing the report.
 */
function recordInvocation(out: string, invocation: Invocation, log: (line: string) => void): Invocation[] {
  const path = join(out, "invocations.json");
  const found = readCheckedJson<Invocation[]>(path, invocationsProblem);
  // A damaged list (a torn write, an edit) is moved aside with a warning and a new one started.
  if (found.kind === "damaged") {
    reportDamaged(out, path, found.reason, "the report lists this invocation only", log);
  }
  const list = found.kind === "valid" ? found.value : [];
  list.push(invocation);
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, `${JSON.stringify(list, null, 2)}\n`);
  renameSync(temporary, path);
  return list;
}

/** Why `invocations.json` does not hold a list of invocations, or null when it does. */
function invocationsProblem(value: unknown): string | null {
  if (!Array.isArray(value)) return "it is not a JSON list";
  const bad = value.findIndex(
    (entry) =>
      entry === null ||
      typeof entry !== "object" ||
      typeof entry.at !== "string" ||
      !["wallSeconds", "ran", "skipped", "failed"].every((field) => typeof entry[field] === "number"),
  );
  return bad === -1 ? null : `its entry ${bad} is not { at, wallSeconds, ran, skipped, failed }`;
}

/** A compress row's rate–accuracy points (`extra.points`), each configuration's size and accuracy averaged over seeds. */
export function meanRatePoints(results: readonly RunResult[]): { kbits: number; accuracy: number }[] {
  const byConfig = new Map<string, { bits: number[]; accuracy: number[] }>();
  for (const result of results) {
    if (result.status !== "ok" || !Array.isArray(result.extra["points"])) continue;
    for (const point of result.extra["points"] as {
      config?: unknown;
      bits?: unknown;
      accuracy?: unknown;
    }[]) {
      if (typeof point.bits !== "number" || typeof point.accuracy !== "number") continue;
      const entry = byConfig.get(String(point.config)) ?? { bits: [], accuracy: [] };
      entry.bits.push(point.bits);
      entry.accuracy.push(point.accuracy);
      byConfig.set(String(point.config), entry);
    }
  }
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  return [...byConfig.values()].map((e) => ({ kbits: mean(e.bits) / 1000, accuracy: mean(e.accuracy) }));
}

/** Writes report.md, report.html and figures/ (PNG heatmaps when sharp works, SVG otherwise). */
export async function writeReport(input: WriteReportInput): Promise<{ markdown: string; html: string }> {
  const { out, preset, experiments, seeds } = input;
  const claims = loadClaims();
  const log = input.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const results = readAllResults(out, log);
  const model = buildReport(preset, experiments, seeds, results, claims, loadChecks(claims));
  model.findings = assessFindings(loadFindings(), model.tables, model.checks);
  model.crossCka = model.tables
    .filter((table) => table.experiment.heatmaps)
    .map((table) => crossModelCka(table, out, log))
    .filter((cross): cross is CrossModelCka => cross !== null);
  const figuresDir = join(out, "figures");
  mkdirSync(figuresDir, { recursive: true });
  const figures: Figure[] = [];
  const addFigure = async (id: string, title: string, svg: string, name: string, rasterise: boolean) => {
    let file = `figures/${name}.svg`;
    writeFileSync(join(out, file), svg);
    if (rasterise && (await writePng(svg, join(out, `figures/${name}.png`)))) file = `figures/${name}.png`;
    figures.push({ id, title, svg, file });
  };
  for (const table of model.tables) {
    const id = table.experiment.id;
    if (table.experiment.heatmaps) {
      for (const row of table.rows) {
        if (row.cka === null) continue;
        const labels = row.cka.blocks.map((b) => `block ${b}`);
        await addFigure(
          `${id}:selected:${row.variant.id}`,
          `${row.variant.label}: CKA at blocks ${row.cka.blocks.join(", ")} (mean over seeds)`,
          heatmapSvg(row.cka.selected, {
            rowLabels: labels,
            colLabels: labels,
            title: `${row.variant.label}: blocks ${row.cka.blocks.join(", ")}`,
            min: 0,
            max: 1,
          }),
          `cka-${row.variant.id}-selected`,
          true,
        );
        // With as many blocks as are selected, the all-blocks map is the same picture: draw it once.
        const sameBlocks =
          row.cka.all.length === row.cka.blocks.length && row.cka.blocks.every((b, i) => b === i);
        if (sameBlocks) continue;
        const all = row.cka.all.map((_, i) => String(i));
        await addFigure(
          `${id}:all:${row.variant.id}`,
          `${row.variant.label}: CKA between all blocks (mean over seeds)`,
          heatmapSvg(row.cka.all, {
            rowLabels: all,
            colLabels: all,
            title: `${row.variant.label}: all blocks`,
            rowTitle: "block",
            colTitle: "block",
            min: 0,
            max: 1,
          }),
          `cka-${row.variant.id}-all`,
          true,
        );
      }
    }
    const compressed = table.rows.filter((row) => row.variant.task === "compress");
    if (compressed.length > 0) {
      const title = `${table.experiment.title}: rate–accuracy`;
      await addFigure(
        `${id}:rate`,
        title,
        rateAccuracySvg(
          compressed.map((row) => ({ label: row.variant.label, points: meanRatePoints(row.results) })),
          title,
        ),
        `rate-${id}`,
        false,
      );
    }
    for (const row of table.rows) {
      if (row.gateTrajectory === null || row.gateTrajectory.steps.length === 0) continue;
      const title = `${row.variant.label}: gates per block during training (${row.variant.task} task)`;
      await addFigure(
        `${id}:gates:${row.variant.id}`,
        title,
        gateTrajectorySvg(row.gateTrajectory, title),
        `gates-${id}-${row.variant.id}`,
        false,
      );
    }
    const cross = model.crossCka.find((c) => c.experiment === id);
    for (const [index, pair] of (cross?.pairs ?? []).entries()) {
      const blocks = pair.matrix.map((_, i) => String(i));
      await addFigure(
        `${id}:cross:${index}`,
        `${pair.a} vs ${pair.b}: linear CKA between their blocks (mean over seeds)`,
        heatmapSvg(pair.matrix, {
          rowLabels: blocks,
          colLabels: blocks,
          title: `${pair.a} vs ${pair.b}`,
          rowTitle: pair.a,
          colTitle: pair.b,
          min: 0,
          max: 1,
        }),
        `cka-cross-${id}-${index}`,
        false,
      );
    }
    if (table.experiment.curves) {
      // One plot per task: a 100-step source curve and a 7-step transfer curve share no x axis.
      const tasks = [...new Set(table.rows.filter((r) => r.curve.length > 0).map((r) => r.variant.task))];
      for (const task of tasks) {
        const series = table.rows
          .filter((r) => r.curve.length > 0 && r.variant.task === task)
          .map((r) => ({ label: r.variant.label, points: r.curve }));
        const title =
          tasks.length > 1
            ? `${table.experiment.title}: training loss, ${task} runs`
            : `${table.experiment.title}: training loss`;
        await addFigure(
          `${id}:curves:${task}`,
          title,
          curvesSvg(series, title),
          tasks.length > 1 ? `curves-${id}-${task}` : `curves-${id}`,
          false,
        );
      }
    }
  }
  const git = gitState();
  const provenance: Provenance = {
    preset,
    seeds,
    backend: input.backend,
    gitCommit: git.commit,
    gitDirty: git.dirty,
    backbone: input.backbone.description,
    backboneCached: input.backbone.cached,
    pretrainAccuracy: input.backbone.pretrainAccuracy,
    wallSeconds: input.wallSeconds,
    counts: input.counts,
    timings: {
      runSeconds: input.runs.reduce((sum, run) => {
        const result = results.get(run.key);
        return result?.status === "ok" ? sum + result.timings.totalSeconds : sum;
      }, 0),
      invocations: recordInvocation(
        out,
        {
          at: new Date().toISOString(),
          wallSeconds: input.wallSeconds,
          ...input.counts,
        },
        log,
      )
        .filter((i) => i.ran > 0)
        .map(({ at, wallSeconds, ran }) => ({ at, wallSeconds, ran })),
    },
    generatedAt: new Date().toISOString(),
    node: process.version,
  };
  const markdown = join(out, "report.md");
  const html = join(out, "report.html");
  writeFileSync(markdown, renderMarkdown(model, provenance, claims, figures));
  writeFileSync(html, renderHtml(model, provenance, claims, figures));
  // The verdicts and checks as data, for tools (the backbone's model card reads its gates from here).
  writeFileSync(
    join(out, "report.json"),
    `${JSON.stringify(
      {
        preset: preset.name,
        seeds,
        checks: model.checks.map((c) => ({
          id: c.check.id,
          title: c.check.title,
          status: c.status,
          comparisons: c.comparisons.map((k) => ({
            worse: k.worse,
            passed: k.passed,
            outcome: k.outcome,
            comparison: k.comparison,
          })),
        })),
        relations: model.relations,
        wallSeconds: input.wallSeconds,
      },
      null,
      2,
    )}\n`,
  );
  return { markdown, html };
}
