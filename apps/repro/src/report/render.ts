import type { Claims } from "../claims";
import type { ClassificationData, Preset } from "../config/presets";
import { formatDuration } from "../progress";
import type { PaperAudit } from "./audit";
import {
  ALPHA,
  type CheckResult,
  formatSummary,
  METRICS,
  type RelationCheck,
  type ReportModel,
  type Table,
} from "./build";
import type { CrossModelCka } from "./cross-cka";
import type { FindingResult } from "./findings";

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
  /**
   * Time as the runs recorded it when they ran (a re-run reuses finished runs and keeps their timings):
   * the sum of the plan's completed runs' own times, and the earlier invocations of this folder that ran runs.
   */
  timings: { runSeconds: number; invocations: { at: string; wallSeconds: number; ran: number }[] };
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

/** The classes, pool and shift of a task, as a phrase. */
function taskView(data: ClassificationData): string {
  const parts: string[] = [];
  if (data.classes !== undefined) parts.push(`classes ${data.classes.join(", ")}`);
  if (data.pool !== undefined) parts.push(`train items ${data.pool[0]}–${data.pool[1] - 1}`);
  if (data.shift !== undefined)
    parts.push(
      `shift ${data.shift.kinds.join("+")}${data.shift.strength === undefined ? "" : ` ${data.shift.strength}`}`,
    );
  return parts.length === 0 ? "" : ` (${parts.join("; ")})`;
}

function dataLines(p: Provenance): string[] {
  const { preset } = p;
  const lines = [
    `Preset: **${preset.name}** — ${preset.description}`,
    `Seeds: ${p.seeds.length} (${p.seeds.join(", ")}); every cell is mean ± sample std over the seeds that completed`,
    `Backbone: ${JSON.stringify(preset.model)}; ${p.backbone}${p.backboneCached ? " (from cache)" : ""}` +
      (p.pretrainAccuracy === null
        ? ""
        : `; held-out pretraining accuracy ${(p.pretrainAccuracy * 100).toFixed(2)} %`),
    `Source (4.1): ${preset.source.dataset}${preset.source.root ? ` at ${preset.source.root}` : " (generated)"}${taskView(preset.source)}, ` +
      `${preset.source.steps !== undefined ? `${preset.source.steps} steps` : `${preset.source.epochs} epochs`} × batch ${preset.batchSize}, ` +
      `${preset.source.trainItems ?? "all"} train items drawn again for every seed (class-stratified), evaluation ${preset.source.evalSize ?? "full"} items of the ${preset.source.evalSplit} split`,
    `Target (4.2): ${preset.target.dataset}${preset.target.root ? ` at ${preset.target.root}` : " (generated)"}${taskView(preset.target)}, ` +
      `${preset.target.count !== undefined ? `${preset.target.count} items` : `${preset.target.fraction * 100} %`} class-stratified, drawn again for every seed (the same for every method of a seed), ${preset.target.epochs} epoch, ` +
      `evaluation ${preset.target.evalSize ?? "full"} ${preset.target.evalSplit} split`,
    `Depth (4.4): ${preset.depth.dataset}${preset.depth.root ? ` at ${preset.depth.root}` : " (generated)"}, ${preset.depth.fraction * 100} % of train, ${preset.depth.epochs} epochs, L1 on log depth`,
    `Backend: ${p.backend}; Node ${p.node}; git ${p.gitCommit ?? "unknown"}${p.gitDirty ? " (with uncommitted changes)" : ""}`,
    `Wall time of this invocation: ${formatDuration(p.wallSeconds)} (${p.wallSeconds.toFixed(1)} s); runs: ${p.counts.ran} ran, ${p.counts.skipped} reused, ${p.counts.failed} failed`,
    `Run timings as recorded when each run ran: ${formatDuration(p.timings.runSeconds)} (${p.timings.runSeconds.toFixed(1)} s) in the plan's completed runs` +
      (p.timings.invocations.length === 0
        ? ""
        : `; invocations of this folder that ran runs: ${p.timings.invocations
            .map(
              (i) =>
                `${i.at} ${formatDuration(i.wallSeconds)} (${i.wallSeconds.toFixed(1)} s, ${i.ran} run(s))`,
            )
            .join(", ")}`),
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

function num(value: number | null | undefined, digits: number): string {
  if (value === null || value === undefined) return "—";
  if (value === Number.POSITIVE_INFINITY) return "∞";
  if (value === Number.NEGATIVE_INFINITY) return "−∞";
  return value.toFixed(digits);
}

function pValue(p: number | null | undefined): string {
  if (p === null || p === undefined) return "—";
  return p < 1e-4 ? "< 0.0001" : p.toPrecision(2);
}

/** The relations table: one row per claim, every number of its paired test beside the verdict. */
function relationHeader(): string[] {
  return [
    "Claim",
    "Ours (mean ± std)",
    "Effect (mean diff.)",
    "95 % CI",
    "p",
    "Holm p",
    "n seeds",
    "Min. effect",
    "Verdict",
  ];
}

function relationCells(r: RelationCheck): string[] {
  const digits = METRICS[r.metric].digits;
  const c = r.comparison;
  const verdict = r.verdict === "not assessed" ? `not assessed: ${r.reason}` : `${r.verdict}: ${r.reason}`;
  return [
    r.claim,
    `${r.betterLabel} ${formatSummary(r.better, r.metric)}; ${r.worseLabel} ${formatSummary(r.worse, r.metric)}`,
    num(c?.mean, digits),
    c?.ci ? `[${num(c.ci.lower, digits)}, ${num(c.ci.upper, digits)}]` : "—",
    pValue(c?.p),
    pValue(r.holmP),
    c === null ? "—" : String(c.n),
    String(r.minEffect),
    verdict,
  ];
}

function checkHeader(): string[] {
  return ["Check", "Comparison", "Effect (mean diff.)", "95 % CI", "p", "n seeds", "Threshold", "Outcome"];
}

function checkRows(result: CheckResult): string[][] {
  const digits = METRICS[result.check.metric].digits;
  const threshold =
    result.check.kind === "margin"
      ? `margin ${result.check.margin}`
      : `min. effect ${result.check.minEffect}, p < ${ALPHA}`;
  return result.comparisons.map((c, i) => [
    i === 0 ? `${result.check.title} — ${result.status}` : "",
    `${result.betterLabel} vs ${c.worseLabel}`,
    num(c.comparison?.mean, digits),
    c.comparison?.ci ? `[${num(c.comparison.ci.lower, digits)}, ${num(c.comparison.ci.upper, digits)}]` : "—",
    pValue(c.comparison?.p),
    String(c.comparison?.n ?? 0),
    threshold,
    c.outcome,
  ]);
}

/** Sentences for the checks that failed and what that means. */
function failedCheckNotes(checks: readonly CheckResult[]): string[] {
  return checks
    .filter((c) => c.status !== "passed")
    .map(
      (c) =>
        `${c.check.title}: ${c.status === "no data" ? "no data" : "failed"}` +
        (c.check.onFailure ? ` — ${c.check.onFailure}.` : "."),
    );
}

function auditF1Header(): string[] {
  return ["Table", "Method", "Accuracy (%)", "Claimed F1", "2a/(1+a)", "|diff|", "Identity holds"];
}

function auditF1Rows(audit: PaperAudit): string[][] {
  return audit.f1.map((r) => [
    r.table,
    r.method,
    r.accuracy.toFixed(2),
    r.claimedF1.toFixed(r.decimals),
    r.identity.toFixed(4),
    r.difference.toExponential(1),
    `${r.holds ? "yes" : "no"} (at ${r.decimals} decimals)`,
  ]);
}

function auditShareHeader(): string[] {
  return [
    "Configuration on ViT-B/16",
    "Adapter params",
    "Share, head trainable",
    "Share, adapter only",
    "Claimed (4.1)",
  ];
}

function auditShareRows(audit: PaperAudit): string[][] {
  return audit.shares.map((s) => [
    s.label,
    s.adapter.toLocaleString("en-US"),
    `${s.shareWithHead.toFixed(2)} %`,
    `${s.shareAdapterOnly.toFixed(2)} %`,
    s.claimed === null ? "—" : `${s.claimed.toFixed(2)} % (${s.row})`,
  ]);
}

/** One row per (variant, kind of gate) of a table whose runs recorded gates; blocks as columns. */
function gateTable(table: Table): { head: string[]; rows: string[][] } | null {
  const gated = table.rows.filter((row) => row.gates !== null && row.gates.length > 0);
  if (gated.length === 0) return null;
  const blocks = [...new Set(gated.flatMap((row) => (row.gates ?? []).map((g) => g.block)))].sort(
    (a, b) => a - b,
  );
  const rows: string[][] = [];
  for (const row of gated) {
    const byKind = new Map<
      string,
      Map<number, { absMean: number; seeds: number; movedOverReach: number | null }>
    >();
    for (const gate of row.gates ?? []) {
      const kind = gate.name.replace(/^layers\.\d+\./, "");
      const perBlock = byKind.get(kind) ?? new Map();
      perBlock.set(gate.block, gate);
      byKind.set(kind, perBlock);
    }
    for (const [kind, perBlock] of byKind) {
      const seeds = Math.max(...[...perBlock.values()].map((g) => g.seeds));
      rows.push([
        row.variant.label,
        kind,
        String(seeds),
        ...blocks.map((b) => {
          const gate = perBlock.get(b);
          return gate === undefined ? "—" : gate.absMean.toFixed(3);
        }),
        movedOverReach([...perBlock.values()]),
      ]);
    }
  }
  return {
    head: ["Variant", "Gate", "Seeds", ...blocks.map((b) => `block ${b}`), "Moved / Adam's reach"],
    rows,
  };
}

/** Mean over blocks of how far the gates moved over how far Adam could move them ("—" without trajectories). */
function movedOverReach(gates: readonly { movedOverReach: number | null }[]): string {
  const ratios = gates.map((g) => g.movedOverReach).filter((r): r is number => r !== null);
  return ratios.length === 0 ? "—" : (ratios.reduce((a, b) => a + b, 0) / ratios.length).toFixed(2);
}

const GATE_NOTE =
  "Where the learnable gates ended, per block: mean |g| over seeds (a vector gate's mean of absolute values). A gate that starts at 0 and stays near it leaves the adapter switched off in that block. " +
  "Moved / Adam's reach: how far the gates moved from their start (mean |g − g₀|) over Σ lr, the farthest Adam's steps of about lr each can carry a parameter in the run, mean over blocks and seeds. " +
  "Near 1, the gates moved as fast as the optimizer allows the whole run, so where they ended is set by the learning rate and the number of steps rather than by what they learned.";

function crossNote(cross: CrossModelCka): string {
  return (
    `Across models: CKA between the same block of two models, mean over blocks and ${cross.seeds} seed(s), on ${cross.examples} evaluation examples, under four estimates — ` +
    "linear CKA of mean-pooled patch tokens, its debiased form (unbiased HSIC), the minibatch estimate (batches of 64, or two halves of fewer than 128 examples, unbiased HSIC; Nguyen et al. 2021) and linear CKA of the CLS token. " +
    "1 means the two models' blocks represent the examples the same way up to rotation and scale. The heatmaps below show every block against every block (linear, mean-pooled)."
  );
}

function crossHeader(): string[] {
  return ["Pair", "Linear (mean)", "Debiased (mean)", "Minibatch (mean)", "Linear (CLS)"];
}

function crossRows(cross: CrossModelCka): string[][] {
  return cross.pairs.map((p) => [
    `${p.a} vs ${p.b}`,
    p.sameBlock.linear.toFixed(3),
    p.sameBlock.debiased.toFixed(3),
    Number.isNaN(p.sameBlock.minibatch) ? "—" : p.sameBlock.minibatch.toFixed(3),
    p.sameBlock.cls.toFixed(3),
  ]);
}

const FINDINGS_NOTE =
  "Questions this project asks of KoRA beyond the paper's claims (claims/findings.json), answered from the tables below. " +
  "A difference question is a paired t test over seeds, Holm-corrected across these questions: yes when the difference is significant and at least the minimum effect, " +
  "no when the 95 % interval lies within ± the minimum effect (equivalence), inconclusive otherwise. " +
  "A ratio question asks whether a per-seed quantity's 95 % interval lies above or below two thresholds. " +
  "Questions whose experiment this preset does not run say so (the extended preset runs every one).";

function findingHeader(): string[] {
  return ["Question", "Runs", "Effect [95 % CI]", "Seeds", "p (Holm)", "Answer", "Why"];
}

function findingCells(f: FindingResult): string[] {
  return [
    f.finding.question,
    f.runs,
    f.effect ?? "—",
    f.n === 0 ? "—" : String(f.n),
    f.holmP === null ? "—" : pValue(f.holmP),
    f.answer,
    f.reason,
  ];
}

function mdTable(head: string[], rows: string[][]): string[] {
  return [
    `| ${head.map(escapeMd).join(" | ")} |`,
    `|${head.map(() => "---").join("|")}|`,
    ...rows.map((row) => `| ${row.map(escapeMd).join(" | ")} |`),
  ];
}

function htmlTable(
  head: string[],
  rows: string[][],
  cellClass: (row: number, col: number) => string = () => "",
): string {
  const body = rows
    .map(
      (row, i) =>
        `<tr>${row
          .map((c, j) => {
            const cls = cellClass(i, j);
            return `<td${cls ? ` class="${cls}"` : ""}>${escapeHtml(c)}</td>`;
          })
          .join("")}</tr>`,
    )
    .join("");
  return `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead><tbody>${body}</tbody></table>`;
}

const STATISTICS_NOTE =
  "Each relation pairs the two methods' runs by seed and tests the per-seed differences (in the claimed direction) " +
  `with a paired t test; the interval is the mean ± t(0.975, n − 1)·SE. Holm's correction runs across the relations tested here. ` +
  `Verdicts: reproduced when the Holm p < ${ALPHA} in the claimed direction and the mean difference is at least the minimum effect; ` +
  "contradicted when it is significant the other way by at least the minimum effect, or when the interval's upper bound is below " +
  "the minimum effect (the claimed effect is excluded); inconclusive otherwise, and always with one seed.";

function renderAuditMarkdown(audit: PaperAudit): string[] {
  return [
    "## What the paper's own numbers say",
    "",
    "Computed from the claims file: each claimed F1 against 2a/(1+a) of its accuracy a (the support-weighted F1 of a test set whose true labels are all one class), and the parameter shares @kora/spec counts on ViT-B/16 (100-class head) beside the claimed ones.",
    "",
    ...mdTable(auditF1Header(), auditF1Rows(audit)),
    "",
    ...mdTable(auditShareHeader(), auditShareRows(audit)),
    "",
    ...audit.findings.map((f) => `- ${f}`),
    "",
  ];
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
  if (model.checks.length > 0) {
    out.push(
      "## Checks",
      "",
      "Positive controls and quality gates; relations that require a failed check are not assessed.",
      "",
    );
    out.push(...mdTable(checkHeader(), model.checks.flatMap(checkRows)), "");
    for (const note of failedCheckNotes(model.checks)) out.push(`> **${escapeMd(note)}**`, "");
  }
  out.push(
    "## Directional claims",
    "",
    STATISTICS_NOTE,
    "",
    `Minimum effects: ${claims.minEffectRationale}`,
    "",
  );
  out.push(...mdTable(relationHeader(), model.relations.map(relationCells)), "");
  if (model.findings.length > 0) {
    out.push("## Findings: the project's own questions", "", FINDINGS_NOTE, "");
    out.push(...mdTable(findingHeader(), model.findings.map(findingCells)), "");
    for (const f of model.findings)
      out.push(`- **${escapeMd(f.finding.question)}** ${escapeMd(f.finding.context)}`);
    out.push("");
  }
  out.push(...renderAuditMarkdown(model.audit));
  for (const table of model.tables) {
    out.push(`## ${table.experiment.title}`, "", table.experiment.description, "");
    const head = tableHeader(table);
    out.push(`| ${head.map(escapeMd).join(" | ")} |`, `|${head.map(() => "---").join("|")}|`);
    for (const row of tableRows(table)) out.push(`| ${row.map(escapeMd).join(" | ")} |`);
    out.push("");
    const claimTable = table.experiment.claims === null ? undefined : claims.tables[table.experiment.claims];
    if (claimTable?.notes) out.push(`Paper note: ${claimTable.notes}`, "");
    const gates = gateTable(table);
    if (gates !== null) out.push(GATE_NOTE, "", ...mdTable(gates.head, gates.rows), "");
    const cross = model.crossCka.find((c) => c.experiment === table.experiment.id);
    if (cross !== undefined) out.push(crossNote(cross), "", ...mdTable(crossHeader(), crossRows(cross)), "");
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
  if (model.checks.length > 0) {
    out.push(
      '<section id="checks"><h2>Checks</h2><p>Positive controls and quality gates; relations that require a failed check are not assessed.</p>',
    );
    const rows = model.checks.flatMap(checkRows);
    const passed = model.checks.flatMap((c) => c.comparisons.map((x) => x.passed));
    out.push(htmlTable(checkHeader(), rows, (i, j) => (j === 7 ? (passed[i] ? "ok" : "bad") : "")));
    for (const note of failedCheckNotes(model.checks))
      out.push(`<p class="leak"><strong>${escapeHtml(note)}</strong></p>`);
    out.push("</section>");
  }
  out.push(
    `<section id="claims"><h2>Directional claims</h2><p>${escapeHtml(STATISTICS_NOTE)}</p><p>Minimum effects: ${escapeHtml(claims.minEffectRationale)}</p>`,
  );
  const verdictClass = (r: RelationCheck) =>
    r.verdict === "reproduced" ? "ok" : r.verdict === "contradicted" ? "bad" : "";
  out.push(
    htmlTable(relationHeader(), model.relations.map(relationCells), (i, j) =>
      j === 8 ? verdictClass(model.relations[i] as RelationCheck) : "",
    ),
    "</section>",
  );
  if (model.findings.length > 0) {
    out.push(
      `<section id="findings"><h2>Findings: the project's own questions</h2><p>${escapeHtml(FINDINGS_NOTE)}</p>`,
      htmlTable(findingHeader(), model.findings.map(findingCells), (_i, j) => (j === 5 ? "finding" : "")),
      `<ul>${model.findings.map((f) => `<li><strong>${escapeHtml(f.finding.question)}</strong> ${escapeHtml(f.finding.context)}</li>`).join("")}</ul></section>`,
    );
  }
  out.push(
    '<section id="paper-audit"><h2>What the paper\'s own numbers say</h2>',
    htmlTable(auditF1Header(), auditF1Rows(model.audit)),
    htmlTable(auditShareHeader(), auditShareRows(model.audit)),
    `<ul>${model.audit.findings.map((f) => `<li>${escapeHtml(f)}</li>`).join("")}</ul></section>`,
  );
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
    const gates = gateTable(table);
    if (gates !== null)
      out.push(
        `<div class="gates"><p>${escapeHtml(GATE_NOTE)}</p>${htmlTable(gates.head, gates.rows)}</div>`,
      );
    const crossHtml = model.crossCka.find((c) => c.experiment === table.experiment.id);
    if (crossHtml !== undefined)
      out.push(
        `<div class="cross-cka"><p>${escapeHtml(crossNote(crossHtml))}</p>${htmlTable(crossHeader(), crossRows(crossHtml))}</div>`,
      );
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
