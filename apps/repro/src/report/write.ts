import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { heatmapSvg } from "@kora/metrics";
import { loadClaims } from "../claims";
import type { Preset } from "../config/presets";
import type { Experiment } from "../config/schema";
import type { PlannedRun } from "../plan";
import { gitState, readAllResults } from "../results";
import type { BackboneInfo } from "../tasks/backbone";
import { buildReport } from "./build";
import { type Figure, type Provenance, renderHtml, renderMarkdown } from "./render";
import { curvesSvg } from "./svg";

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

/** Writes report.md, report.html and figures/ (PNG heatmaps when sharp works, SVG otherwise). */
export async function writeReport(input: WriteReportInput): Promise<{ markdown: string; html: string }> {
  const { out, preset, experiments, seeds } = input;
  const claims = loadClaims();
  const model = buildReport(preset, experiments, seeds, readAllResults(out), claims);
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
    if (table.experiment.curves) {
      const series = table.rows
        .filter((r) => r.curve.length > 0)
        .map((r) => ({ label: r.variant.label, points: r.curve }));
      await addFigure(
        `${id}:curves`,
        `${table.experiment.title}: training loss`,
        curvesSvg(series, `${table.experiment.title}: training loss`),
        `curves-${id}`,
        false,
      );
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
    generatedAt: new Date().toISOString(),
    node: process.version,
  };
  const markdown = join(out, "report.md");
  const html = join(out, "report.html");
  writeFileSync(markdown, renderMarkdown(model, provenance, claims, figures));
  writeFileSync(html, renderHtml(model, provenance, claims, figures));
  return { markdown, html };
}
