import type { Claims } from "../claims";
import type { Preset } from "../config/presets";
import { formatDuration } from "../progress";
import { formatSummary, METRICS, type ReportModel, type Table } from "./build";

/** Provenance shown at the top of both reports. */
export interface Provenance {
  preset: Preset;
  seeds: readonly number[];
  backend: string;
  gitCommit: string | null;
  gitDirty: boolean | null;
  backbone: string;
  backboneCached: boolean;
  pretrainAccuracy: number | null;
  wallSeconds: number;
  counts: { ran: number; skipped: number; failed: number };
  generatedAt: string;
  node: string;
}

/** A figure of the report: inline SVG for the HTML, a file for the Markdown. */
export interface Figure {
  id: string;
  title: string;
  svg: string;
  /** Path relative to the report (PNG when rasterised, else SVG). */
  file: string;
}

function dataLines(p: Provenance): string[] {
  const { preset } = p;
  const lines = [
    `Preset: **${preset.name}** — ${preset.description}`,
    `Seeds: ${p.seeds.length} (${p.seeds.join(", ")}); every cell is mean ± sample std over the seeds that completed`,
    `Backbone: ${JSON.stringify(preset.model)}; ${p.backbone}${p.backboneCached ? " (from cache)" : ""}` +
      (p.pretrainAccuracy === null
        ? ""
        : `; held-out pretraining accuracy ${(p.pretrainAccuracy * 100).toFixed(1)} %`),
    `Source (4.1): ${preset.source.dataset}${preset.source.root ? ` at ${preset.source.root}` : " (generated)"}, ` +
      `${preset.source.steps !== undefined ? `${preset.source.steps} steps` : `${preset.source.epochs} epochs`} × batch ${preset.batchSize}, ` +
      `train items ${preset.source.trainItems ?? "all"}, evaluation ${preset.source.evalSize ?? "full"} items of the ${preset.source.evalSplit} split`,
    `Target (4.2): ${preset.target.dataset}${preset.target.root ? ` at ${preset.target.root}` : " (generated)"}, ` +
      `${preset.target.fraction * 100} % class-stratified subset (seed 0, the same for every method and seed), ${preset.target.epochs} epoch, ` +
      `evaluation ${preset.target.evalSize ?? "full"} ${preset.target.evalSplit} split`,
    `Depth (4.4): ${preset.depth.dataset}${preset.depth.root ? ` at ${preset.depth.root}` : " (generated)"}, ${preset.depth.fraction * 100} % of train, ${preset.depth.epochs} epochs, L1 on log depth`,
    `Backend: ${p.backend}; Node ${p.node}; git ${p.gitCommit ?? "unknown"}${p.gitDirty ? " (with uncommitted changes)" : ""}`,
    `Wall time of this invocation: ${formatDuration(p.wallSeconds)} (${p.wallSeconds.toFixed(1)} s); runs: ${p.counts.ran} ran, ${p.counts.skipped} reused, ${p.counts.failed} failed`,
    `Generated ${p.generatedAt}`,
  ];
  for (const note of preset.notes) lines.push(`Note: ${note}`);
  return lines;
}

function escapeMd(text: string): string {
  return text.replace(/\|/g, "\\|");
}

function escapeHtml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function tableHeader(table: Table): string[] {
  const head = ["Method", "Task"];
  for (const metric of table.experiment.metrics) {
    head.push(`${METRICS[metric].title} (ours)`);
    if (table.experiment.claims !== null) head.push(`${METRICS[metric].title} (paper)`);
  }
  head.push("Verdict");
  return head;
}

function tableRows(table: Table): string[][] {
  return table.rows.map((row) => {
    const cells = [row.variant.label, row.variant.task];
    for (const cell of row.cells) {
      cells.push(formatSummary(cell.ours, cell.metric));
      if (table.experiment.claims !== null) cells.push(cell.claim === null ? "—" : String(cell.claim));
    }
    const failures = row.failed.length > 0 ? ` (${row.failed.length} run(s) failed)` : "";
    cells.push(row.verdict + failures);
    return cells;
  });
}

/** report.md */
export function renderMarkdown(
  model: ReportModel,
  provenance: Provenance,
  claims: Claims,
  figures: Figure[],
): string {
  const out: string[] = ["# KoRA reproduction report", ""];
  for (const line of dataLines(provenance)) out.push(`- ${line}`);
  out.push(
    "",
    `Paper's numbers: ${claims.citation} <${claims.url}>. ${claims.setting} They are shown in their own columns and never mixed into ours.`,
    "",
  );
  if (model.leaks.length > 0) {
    out.push(
      `> **Leak warning:** ${model.leaks.map((r) => r.variant.label).join(", ")} stayed above chance with shuffled labels.`,
      "",
    );
  }
  out.push(
    "## Directional claims",
    "",
    "| Claim | Ours (better side) | Ours (worse side) | Verdict |",
    "|---|---|---|---|",
  );
  for (const r of model.relations) {
    out.push(
      `| ${escapeMd(r.claim)} | ${escapeMd(r.betterLabel)}: ${formatSummary(r.better, r.metric)} | ${escapeMd(r.worseLabel)}: ${formatSummary(r.worse, r.metric)} | ${escapeMd(r.verdict)} |`,
    );
  }
  out.push("");
  for (const table of model.tables) {
    out.push(`## ${table.experiment.title}`, "", table.experiment.description, "");
    const head = tableHeader(table);
    out.push(`| ${head.map(escapeMd).join(" | ")} |`, `|${head.map(() => "---").join("|")}|`);
    for (const row of tableRows(table)) out.push(`| ${row.map(escapeMd).join(" | ")} |`);
    out.push("");
    const claimTable = table.experiment.claims === null ? undefined : claims.tables[table.experiment.claims];
    if (claimTable?.notes) out.push(`Paper note: ${claimTable.notes}`, "");
    for (const figure of figures.filter((f) => f.id.startsWith(`${table.experiment.id}:`))) {
      out.push(`![${figure.title}](${figure.file})`, "");
    }
  }
  if (model.failures.length > 0) {
    out.push("## Failed runs", "");
    for (const f of model.failures)
      out.push(`- \`${f.key}\` (${f.name}): ${escapeMd(f.error?.message.split("\n")[0] ?? "?")}`);
    out.push("");
  }
  out.push(
    "Per-run JSON (config, seed, git commit, backend, timings, metrics, training curve): `runs/*.json`.",
    "",
  );
  return out.join("\n");
}

/** report.html: self-contained (inline SVG, inline CSS, no scripts or external references). */
export function renderHtml(
  model: ReportModel,
  provenance: Provenance,
  claims: Claims,
  figures: Figure[],
): string {
  const out: string[] = [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8"><title>KoRA reproduction report</title>',
    "<style>body{font-family:system-ui,Helvetica,Arial,sans-serif;margin:24px;max-width:1200px;color:#222}" +
      "table{border-collapse:collapse;margin:8px 0 16px;font-size:13px}th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}" +
      "th{background:#f3f3f3}td.paper{background:#fff8e6}.figs{display:flex;flex-wrap:wrap;gap:16px}.prov{background:#f7f9fc;border:1px solid #dde;padding:8px 16px;font-size:13px}" +
      ".leak{background:#fde2e2;border:1px solid #c33;padding:8px}.ok{color:#276b2a}.bad{color:#a52020}</style></head><body>",
    "<h1>KoRA reproduction report</h1>",
    '<section class="prov" id="provenance"><h2>Preset and data provenance</h2><ul>',
  ];
  for (const line of dataLines(provenance)) out.push(`<li>${escapeHtml(line.replace(/\*\*/g, ""))}</li>`);
  out.push(
    `<li>Paper's numbers: ${escapeHtml(claims.citation)} <a href="${escapeHtml(claims.url)}">${escapeHtml(claims.url)}</a>. ${escapeHtml(claims.setting)}</li>`,
    "</ul></section>",
  );
  if (model.leaks.length > 0) {
    out.push(
      `<p class="leak"><strong>Leak warning:</strong> ${escapeHtml(model.leaks.map((r) => r.variant.label).join(", "))} stayed above chance with shuffled labels.</p>`,
    );
  }
  out.push(
    '<h2 id="claims">Directional claims</h2><table><thead><tr><th>Claim</th><th>Ours (better side)</th><th>Ours (worse side)</th><th>Verdict</th></tr></thead><tbody>',
  );
  for (const r of model.relations) {
    const cls = r.verdict.startsWith("reproduced") ? "ok" : "bad";
    out.push(
      `<tr><td>${escapeHtml(r.claim)}</td><td>${escapeHtml(`${r.betterLabel}: ${formatSummary(r.better, r.metric)}`)}</td>` +
        `<td>${escapeHtml(`${r.worseLabel}: ${formatSummary(r.worse, r.metric)}`)}</td><td class="${cls}">${escapeHtml(r.verdict)}</td></tr>`,
    );
  }
  out.push("</tbody></table>");
  for (const table of model.tables) {
    out.push(
      `<section id="exp-${escapeHtml(table.experiment.id)}"><h2>${escapeHtml(table.experiment.title)}</h2><p>${escapeHtml(table.experiment.description)}</p>`,
    );
    const head = tableHeader(table);
    out.push(
      `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead><tbody>`,
    );
    const paperColumns = new Set<number>();
    if (table.experiment.claims !== null)
      for (let i = 0; i < table.experiment.metrics.length; i++) paperColumns.add(3 + 2 * i);
    for (const row of tableRows(table)) {
      out.push(
        `<tr>${row.map((c, i) => `<td${paperColumns.has(i) ? ' class="paper"' : ""}>${escapeHtml(c)}</td>`).join("")}</tr>`,
      );
    }
    out.push("</tbody></table>");
    const figs = figures.filter((f) => f.id.startsWith(`${table.experiment.id}:`));
    if (figs.length > 0) {
      out.push('<div class="figs">');
      for (const f of figs)
        out.push(
          `<figure data-figure="${escapeHtml(f.id)}">${f.svg}<figcaption>${escapeHtml(f.title)}</figcaption></figure>`,
        );
      out.push("</div>");
    }
    out.push("</section>");
  }
  if (model.failures.length > 0) {
    out.push('<section id="failures"><h2>Failed runs</h2><ul>');
    for (const f of model.failures)
      out.push(`<li><code>${escapeHtml(f.key)}</code>: ${escapeHtml(f.error?.message ?? "?")}</li>`);
    out.push("</ul></section>");
  }
  out.push("</body></html>", "");
  return out.join("\n");
}
