import {
  holm,
  type PairedComparison,
  pairedComparison,
  pairedVerdict,
  studentTQuantile,
  type Verdict,
} from "@kora/metrics";
import type { Check, Claims } from "../claims";
import type { Preset } from "../config/presets";
import type { Experiment, MetricName, Variant } from "../config/schema";
import { variantKey } from "../plan";
import type { RunResult } from "../results";
import { auditPaper, type PaperAudit } from "./audit";
import type { CrossModelCka } from "./cross-cka";
import type { FindingResult } from "./findings";
import { meanMatrix, type Summary, summarise } from "./stats";

/** Column titles and formatting of each metric. */
export const METRICS: Record<
  MetricName,
  { title: string; digits: number; higherIsBetter: boolean; tolerance: (claim: number) => number }
> = {
  paramsTunedPct: { title: "Params tuned (%)", digits: 2, higherIsBetter: false, tolerance: () => 0.1 },
  ckaSim: { title: "CKA sim.", digits: 3, higherIsBetter: true, tolerance: () => 0.05 },
  accuracy: { title: "Accuracy (%)", digits: 2, higherIsBetter: true, tolerance: () => 2 },
  macroF1: { title: "Macro-F1", digits: 3, higherIsBetter: true, tolerance: () => 0.02 },
  accuracyDisabled: {
    title: "Acc. adapter disabled (%)",
    digits: 2,
    higherIsBetter: true,
    tolerance: () => 2,
  },
  distantCka: { title: "CKA block 0 vs last", digits: 3, higherIsBetter: true, tolerance: () => 0.05 },
  rmse: { title: "RMSE (m)", digits: 4, higherIsBetter: false, tolerance: (c) => 0.1 * c },
  absRel: { title: "AbsRel", digits: 4, higherIsBetter: false, tolerance: (c) => 0.1 * c },
  delta1: { title: "δ1", digits: 3, higherIsBetter: true, tolerance: () => 0.02 },
  delta2: { title: "δ2", digits: 3, higherIsBetter: true, tolerance: () => 0.02 },
  delta3: { title: "δ3", digits: 3, higherIsBetter: true, tolerance: () => 0.02 },
  kbitsAtDrop: {
    title: "kbit within 1 pt",
    digits: 1,
    higherIsBetter: false,
    tolerance: (c) => 0.1 * c,
  },
  effectiveRank: { title: "Effective rank", digits: 2, higherIsBetter: false, tolerance: (c) => 0.1 * c },
  mIoU: { title: "mIoU", digits: 3, higherIsBetter: true, tolerance: () => 0.02 },
  pixelAccuracy: { title: "Pixel acc.", digits: 3, higherIsBetter: true, tolerance: () => 0.02 },
};

/** One metric cell: our summary over seeds and the paper's number. */
export interface Cell {
  metric: MetricName;
  ours: Summary | null;
  claim: number | null;
}

/** One table row. */
export interface Row {
  variant: Variant;
  cells: Cell[];
  /** Results of this row's runs (ok and failed). */
  results: RunResult[];
  failed: RunResult[];
  verdict: string;
  /** For shuffled-label controls: the leak check. */
  leak: { chance: number; threshold: number; mean: number; leaked: boolean } | null;
  /** Mean training curve over seeds. */
  curve: { step: number; loss: number }[];
  /** 4.3: mean CKA matrices over seeds. */
  cka: { all: number[][]; selected: number[][]; blocks: number[] } | null;
  /** Where the learnable gates ended (`extra.gates`), per block, mean over seeds; null for gateless methods. */
  gates: GateSummary[] | null;
  /** How the gates moved during training (`extra.gateTrajectory`); null for gateless methods. */
  gateTrajectory: TrajectorySummary | null;
}

/** One learnable gate of a row, over the seeds that recorded it. */
export interface GateSummary {
  block: number;
  name: string;
  /** Mean over seeds of the gate's mean |g| (a vector gate's mean of absolute values). */
  absMean: number;
  /** Mean over seeds of the gate's signed mean. */
  mean: number;
  seeds: number;
  /**
   * Mean over seeds of how far the gate moved from its start (mean |g − g₀|) over Adam's reach at the run's last
   * step (see `GateTrajectory`): ≈ 1 when it moved as fast as the optimizer allows the whole run; null for runs
   * without a trajectory.
   */
  movedOverReach: number | null;
}

/** A row's gate trajectories, mean over the seeds that recorded the same steps. */
export interface TrajectorySummary {
  steps: number[];
  /** Adam's reach at each step (the same for every seed). */
  reach: number[];
  /** Per block: mean |g| over the block's gates and the seeds, at each step. */
  blocks: { block: number; absMean: number[] }[];
  seeds: number;
}

/** One experiment's table. */
export interface Table {
  experiment: Experiment;
  rows: Row[];
}

/** Significance level of every verdict and check. */
export const ALPHA = 0.05;

/** One directional claim tested as a paired comparison over seeds. */
export interface RelationCheck {
  id: string;
  claim: string;
  experiment: string;
  metric: MetricName;
  better: Summary | null;
  worse: Summary | null;
  betterLabel: string;
  worseLabel: string;
  /** The declared minimum effect, in the metric's unit. */
  minEffect: number;
  /** The paired comparison (differences in the claimed direction); null without a seed both sides completed. */
  comparison: PairedComparison | null;
  /** Holm-adjusted p across the relations tested in this report; null when this one has no p. */
  holmP: number | null;
  /** The verdict; `"not assessed"` when a check it requires did not pass, `"no result"` without data. */
  verdict: Verdict | "not assessed" | "no result";
  /** Why, in words (for "not assessed": which check and comparison failed). */
  reason: string;
}

/** One comparison of a check: `better` against one of its `worse` variants. */
export interface CheckComparison {
  worse: string;
  worseLabel: string;
  comparison: PairedComparison | null;
  passed: boolean;
  /** What came out, in words (`inconclusive, p = 0.21`, `no data`, `mean 3.1 ≥ margin 5: no`). */
  outcome: string;
}

/** A check of claims/checks.json evaluated on this run's results. */
export interface CheckResult {
  check: Check;
  betterLabel: string;
  /** `passed` only when every comparison passed; `no data` when a comparison has no paired seed. */
  status: "passed" | "failed" | "no data";
  comparisons: CheckComparison[];
}

/** Everything the renderers need. */
export interface ReportModel {
  tables: Table[];
  /** Positive controls and quality gates (claims/checks.json), shown before the relations. */
  checks: CheckResult[];
  relations: RelationCheck[];
  /** What the paper's own numbers say (single-class F1 identity, parameter shares). */
  audit: PaperAudit;
  failures: RunResult[];
  leaks: Row[];
  /** The study's own questions (claims/findings.json), answered from the tables; filled in by `assessFindings`. */
  findings: FindingResult[];
  /** CKA between models, every pair, for each CKA table whose runs saved features; filled in by the writer. */
  crossCka: CrossModelCka[];
}

function fmt(value: number, digits: number): string {
  return value.toFixed(digits);
}

/** Datasets of a row's task in this preset, and in the paper. */
function taskData(preset: Preset, task: Variant["task"]): { ours: string; paper: string } {
  switch (task) {
    case "transfer":
      return {
        ours: `${preset.source.dataset} → ${preset.target.dataset}`,
        paper: "CIFAR-100 → Tiny-ImageNet",
      };
    case "dense":
      return { ours: preset.depth.dataset, paper: "NYU Depth V2" };
    case "segment":
      return { ours: preset.segmentation.dataset, paper: "no segmentation table in the paper" };
    default:
      return { ours: preset.source.dataset, paper: "CIFAR-100" };
  }
}

function comparability(preset: Preset, task: Variant["task"]): string | null {
  if (preset.name === "paper") return null;
  const model = "preset" in preset.model ? String(preset.model.preset) : "tiny custom";
  const data = taskData(preset, task);
  return `not comparable (${preset.name} preset: ${data.ours} on ${model}, not ${data.paper} on ViT-B/16)`;
}

function rowVerdict(
  preset: Preset,
  task: Variant["task"],
  cells: Cell[],
  failed: number,
  ok: number,
): string {
  const compared = cells.filter((c) => c.claim !== null);
  if (ok === 0) return failed > 0 ? "no result: every run failed" : "no result";
  if (compared.length === 0) return "—";
  const reason = comparability(preset, task);
  if (reason !== null) return reason;
  // The paper preset compares our mean with the paper's number as an equivalence question: does our 95 % interval
  // (Student's t over the seeds) lie inside the claim ± the metric's declared tolerance, or wholly outside it?
  const differs: string[] = [];
  const open: string[] = [];
  for (const cell of compared) {
    if (cell.ours === null || cell.claim === null) continue;
    const info = METRICS[cell.metric];
    const tolerance = info.tolerance(cell.claim);
    const text = `${info.title} ${fmt(cell.ours.mean, info.digits)} vs ${cell.claim} (±${fmt(tolerance, info.digits)})`;
    if (cell.ours.std === null || cell.ours.n < 2) {
      open.push(`${text}: one seed, no interval`);
      continue;
    }
    const half = studentTQuantile(1 - ALPHA / 2, cell.ours.n - 1) * (cell.ours.std / Math.sqrt(cell.ours.n));
    const low = cell.ours.mean - half;
    const high = cell.ours.mean + half;
    if (high < cell.claim - tolerance || low > cell.claim + tolerance) differs.push(text);
    else if (low < cell.claim - tolerance || high > cell.claim + tolerance) open.push(text);
  }
  if (differs.length > 0) return `differs from the paper: ${differs.join("; ")}`;
  if (open.length > 0) return `inconclusive: ${open.join("; ")}`;
  return "matches the paper (every claimed number's 95 % interval within its tolerance)";
}

/** Builds the report's tables and verdicts from the results. */
export function buildReport(
  preset: Preset,
  experiments: readonly Experiment[],
  seeds: readonly number[],
  results: ReadonlyMap<string, RunResult>,
  claims: Claims,
  checks: readonly Check[] = [],
): ReportModel {
  const tables: Table[] = [];
  const failures = new Map<string, RunResult>();
  const leaks: Row[] = [];
  for (const experiment of experiments) {
    const claimTable = experiment.claims === null ? undefined : claims.tables[experiment.claims];
    const rows: Row[] = experiment.variants.map((variant) => {
      const runResults = seeds
        .map((seed) => results.get(variantKey(preset, variant, seed)))
        .filter((r): r is RunResult => r !== undefined);
      const ok = runResults.filter((r) => r.status === "ok");
      const failed = runResults.filter((r) => r.status === "failed");
      for (const f of failed) failures.set(f.key, f);
      const cells: Cell[] = experiment.metrics.map((metric) => {
        const claimRow = variant.claim === undefined ? undefined : claimTable?.rows[variant.claim];
        return {
          metric,
          ours: summarise(ok.map((r) => r.metrics[metric])),
          claim: claimRow?.[metric] ?? null,
        };
      });
      let leak: Row["leak"] = null;
      if (variant.shuffleLabels && ok.length > 0) {
        const chance = Number(ok[0]?.extra["chance"] ?? 0);
        const n = Number(ok[0]?.extra["evalExamples"] ?? 1);
        const p = chance / 100;
        const threshold = chance + 100 * 3 * Math.sqrt((p * (1 - p)) / Math.max(1, n)) + 1;
        const mean = summarise(ok.map((r) => r.metrics["accuracy"]))?.mean ?? 0;
        leak = { chance, threshold, mean, leaked: mean > threshold };
      }
      const curves = ok.map((r) => r.curve).filter((c) => c.length > 0);
      const length = Math.min(...curves.map((c) => c.length));
      const curve =
        curves.length === 0
          ? []
          : Array.from({ length }, (_, i) => ({
              step: (curves[0]?.[i]?.step ?? i + 1) as number,
              loss: curves.reduce((s, c) => s + (c[i]?.loss ?? 0), 0) / curves.length,
            }));
      let cka: Row["cka"] = null;
      if (variant.task === "cka" && ok.length > 0) {
        const all = meanMatrix(ok.map((r) => r.extra["all"] as number[][]));
        const selected = meanMatrix(ok.map((r) => r.extra["selected"] as number[][]));
        if (all !== null && selected !== null)
          cka = { all, selected, blocks: ok[0]?.extra["blocks"] as number[] };
      }
      const row: Row = {
        variant,
        cells,
        results: runResults,
        failed,
        verdict: rowVerdict(preset, variant.task, cells, failed.length, ok.length),
        leak,
        curve,
        cka,
        gates: summariseGates(ok),
        gateTrajectory: summariseTrajectories(ok),
      };
      if (leak !== null) {
        row.verdict = leak.leaked
          ? `LEAK? accuracy ${fmt(leak.mean, 2)} % is above chance (${fmt(leak.chance, 2)} %, threshold ${fmt(leak.threshold, 2)} %)`
          : `ok: at chance (${fmt(leak.mean, 2)} % vs chance ${fmt(leak.chance, 2)} %, threshold ${fmt(leak.threshold, 2)} %)`;
        if (leak.leaked) leaks.push(row);
      }
      return row;
    });
    tables.push({ experiment, rows });
  }
  const checkResults = checks.map((check) => evaluateCheck(check, tables));
  const relations = assessRelations(claims, tables, checkResults);
  return {
    tables,
    checks: checkResults,
    relations,
    audit: auditPaper(claims),
    failures: [...failures.values()],
    leaks,
    findings: [],
    crossCka: [],
  };
}

/**
 * The gates a row's runs recorded in `extra.gates`, averaged over seeds per (block, name), in block order; null
 * when no run recorded one (gateless methods, or results written before gates were recorded).
 */
export function summariseGates(ok: readonly RunResult[]): GateSummary[] | null {
  const byGate = new Map<
    string,
    { block: number; name: string; abs: number[]; mean: number[]; ratio: number[] }
  >();
  for (const result of ok) {
    const gates = result.extra["gates"];
    if (!Array.isArray(gates)) continue;
    const trajectory = readTrajectory(result);
    const ratios = new Map<string, number>();
    const reach = trajectory?.reach.at(-1);
    if (trajectory !== null && reach !== undefined && reach > 0) {
      for (const gate of trajectory.gates) {
        const moved = gate.moved.at(-1);
        if (moved !== undefined) ratios.set(`${gate.block}\u0000${gate.name}`, moved / reach);
      }
    }
    for (const gate of gates as { block?: unknown; name?: unknown; mean?: unknown; absMean?: unknown }[]) {
      if (typeof gate.block !== "number" || typeof gate.absMean !== "number" || typeof gate.mean !== "number")
        continue;
      const name = String(gate.name ?? "gate");
      const key = `${gate.block}\u0000${name}`;
      const entry = byGate.get(key) ?? { block: gate.block, name, abs: [], mean: [], ratio: [] };
      entry.abs.push(gate.absMean);
      entry.mean.push(gate.mean);
      const ratio = ratios.get(key);
      if (ratio !== undefined) entry.ratio.push(ratio);
      byGate.set(key, entry);
    }
  }
  if (byGate.size === 0) return null;
  const average = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  return [...byGate.values()]
    .sort((a, b) => a.block - b.block || a.name.localeCompare(b.name))
    .map((g) => ({
      block: g.block,
      name: g.name,
      absMean: average(g.abs),
      mean: average(g.mean),
      seeds: g.abs.length,
      movedOverReach: g.ratio.length === 0 ? null : average(g.ratio),
    }));
}

interface RecordedTrajectory {
  steps: number[];
  reach: number[];
  gates: { block: number; name: string; absMean: number[]; moved: number[] }[];
}

/** A run's `extra.gateTrajectory` when it has the recorded shape (results from older versions have none). */
function readTrajectory(result: RunResult): RecordedTrajectory | null {
  const value = result.extra["gateTrajectory"] as Partial<RecordedTrajectory> | undefined;
  if (value === undefined || value === null || typeof value !== "object") return null;
  const { steps, reach, gates } = value;
  if (!Array.isArray(steps) || !Array.isArray(reach) || !Array.isArray(gates)) return null;
  if (reach.length !== steps.length) return null;
  const complete = gates.every(
    (g) =>
      typeof g?.block === "number" &&
      Array.isArray(g.absMean) &&
      g.absMean.length === steps.length &&
      Array.isArray(g.moved) &&
      g.moved.length === steps.length,
  );
  return complete ? { steps, reach, gates } : null;
}

/**
 * The rows' gate trajectories averaged over seeds: per block, mean |g| over the block's gates and over the seeds
 * whose trajectory recorded the same steps as the first (a resumed run may have recorded fewer); null when no run
 * recorded one.
 */
export function summariseTrajectories(ok: readonly RunResult[]): TrajectorySummary | null {
  const recorded = ok.map(readTrajectory).filter((t): t is RecordedTrajectory => t !== null);
  const first = recorded[0];
  if (first === undefined) return null;
  const same = recorded.filter(
    (t) => t.steps.length === first.steps.length && t.steps.every((step, i) => step === first.steps[i]),
  );
  const blocks = [...new Set(first.gates.map((g) => g.block))].sort((a, b) => a - b);
  return {
    steps: [...first.steps],
    reach: [...first.reach],
    blocks: blocks.map((block) => ({
      block,
      absMean: first.steps.map((_, i) => {
        const values = same.flatMap((t) =>
          t.gates.filter((g) => g.block === block).map((g) => g.absMean[i] as number),
        );
        return values.reduce((a, b) => a + b, 0) / values.length;
      }),
    })),
    seeds: same.length,
  };
}

/** Per-seed values of one metric in a row's completed runs. */
export function valuesBySeed(row: Row | undefined, metric: MetricName): Map<number, number> {
  const values = new Map<number, number>();
  for (const r of row?.results ?? []) {
    const v = r.metrics[metric];
    if (r.status === "ok" && typeof v === "number" && Number.isFinite(v)) values.set(r.seed, v);
  }
  return values;
}

/** The paired comparison of two rows over the seeds both completed (null when they share none). */
export function compareRows(
  better: Row | undefined,
  worse: Row | undefined,
  metric: MetricName,
  options: { higherIsBetter: boolean; minEffect: number },
): PairedComparison | null {
  const a = valuesBySeed(better, metric);
  const b = valuesBySeed(worse, metric);
  const seeds = [...a.keys()].filter((seed) => b.has(seed)).sort((x, y) => x - y);
  if (seeds.length === 0) return null;
  return pairedComparison(
    seeds.map((seed) => a.get(seed) as number),
    seeds.map((seed) => b.get(seed) as number),
    options,
  );
}

export function findRow(tables: readonly Table[], experiment: string, variant: string): Row | undefined {
  return tables.find((t) => t.experiment.id === experiment)?.rows.find((r) => r.variant.id === variant);
}

export function pText(p: number): string {
  return p < 1e-4 ? "p < 0.0001" : `p = ${p.toPrecision(2)}`;
}

/** Evaluates one check: every comparison must pass (an intersection-union test, so no correction is needed). */
export function evaluateCheck(check: Check, tables: readonly Table[]): CheckResult {
  const digits = METRICS[check.metric].digits;
  const better = findRow(tables, check.experiment, check.better);
  const comparisons: CheckComparison[] = check.worse.map((worseId) => {
    const worse = findRow(tables, check.experiment, worseId);
    const worseLabel = worse?.variant.label ?? worseId;
    const minEffect = check.kind === "paired" ? check.minEffect : Math.max(0, check.margin);
    const comparison = compareRows(better, worse, check.metric, {
      higherIsBetter: check.higherIsBetter,
      minEffect,
    });
    if (comparison === null) {
      const missing = [
        better === undefined ? check.better : null,
        worse === undefined ? worseId : null,
      ].filter((m) => m !== null);
      const outcome =
        missing.length > 0
          ? `no data: ${missing.join(" and ")} not in experiment ${check.experiment}`
          : "no data: no seed completed on both sides";
      return { worse: worseId, worseLabel, comparison, passed: false, outcome };
    }
    if (check.kind === "margin") {
      const passed = comparison.mean >= check.margin;
      return {
        worse: worseId,
        worseLabel,
        comparison,
        passed,
        outcome: `mean difference ${comparison.mean.toFixed(digits)} ${passed ? "≥" : "<"} margin ${check.margin}`,
      };
    }
    const verdict = pairedVerdict(comparison, { alpha: ALPHA });
    const p = comparison.p === null ? "one seed" : pText(comparison.p);
    return {
      worse: worseId,
      worseLabel,
      comparison,
      passed: verdict.verdict === "reproduced",
      outcome: `${verdict.verdict === "reproduced" ? "passed" : verdict.verdict}, ${p}, mean ${comparison.mean.toFixed(digits)} (minimum ${check.minEffect})`,
    };
  });
  const status = comparisons.some((c) => c.comparison === null)
    ? "no data"
    : comparisons.every((c) => c.passed)
      ? "passed"
      : "failed";
  return { check, betterLabel: better?.variant.label ?? check.better, status, comparisons };
}

/** The chance line of an accuracy row (chance + 3 binomial SE + 1 point), when its runs recorded chance. */
function chanceLine(row: Row | undefined, metric: MetricName): number | null {
  const ok = row?.results.find((r) => r.status === "ok");
  if (metric !== "accuracy" || ok === undefined || typeof ok.extra["chance"] !== "number") return null;
  const chance = ok.extra["chance"] as number;
  const p = chance / 100;
  const n = Number(ok.extra["evalExamples"] ?? 1);
  return chance + 100 * 3 * Math.sqrt((p * (1 - p)) / Math.max(1, n)) + 1;
}

/** Tests every relation of the claims, Holm-corrected across those with a p-value. */
function assessRelations(
  claims: Claims,
  tables: readonly Table[],
  checks: readonly CheckResult[],
): RelationCheck[] {
  const relations: RelationCheck[] = [];
  const rowsOf = new Map<RelationCheck, (Row | undefined)[]>();
  for (const relation of claims.relations) {
    const table = tables.find((t) => t.experiment.id === relation.experiment);
    if (table === undefined) continue;
    const metric = relation.metric as MetricName;
    const better = table.rows.find((r) => r.variant.id === relation.better);
    const worse = table.rows.find((r) => r.variant.id === relation.worse);
    const base = {
      id: relation.id,
      claim: relation.claim,
      experiment: relation.experiment,
      metric,
      better: better?.cells.find((c) => c.metric === metric)?.ours ?? null,
      worse: worse?.cells.find((c) => c.metric === metric)?.ours ?? null,
      betterLabel: better?.variant.label ?? relation.better,
      worseLabel: worse?.variant.label ?? relation.worse,
      minEffect: relation.minEffect,
      holmP: null,
    };
    const blocking = relation.requires
      .map((id) => checks.find((c) => c.check.id === id))
      .find((c) => c !== undefined && c.status !== "passed");
    if (blocking !== undefined) {
      const which = blocking.comparisons
        .filter((c) => !c.passed)
        .map((c) => `${blocking.betterLabel} vs ${c.worseLabel}: ${c.outcome}`)
        .join("; ");
      relations.push({
        ...base,
        comparison: null,
        verdict: "not assessed",
        reason: `${blocking.check.title} failed (${which})`,
      });
      continue;
    }
    const comparison = compareRows(better, worse, metric, {
      higherIsBetter: relation.higherIsBetter,
      minEffect: relation.minEffect,
    });
    if (comparison === null) {
      relations.push({
        ...base,
        comparison,
        verdict: "no result",
        reason: "no seed completed on both sides",
      });
      continue;
    }
    const tested: RelationCheck = { ...base, comparison, verdict: "inconclusive", reason: "" };
    relations.push(tested);
    rowsOf.set(tested, [better, worse]);
  }
  // Holm across every relation that has a p-value: the family is the claims this report tests.
  const tested = relations.filter((r) => r.verdict !== "not assessed" && r.comparison?.p != null);
  const adjusted = holm(tested.map((r) => r.comparison?.p as number));
  tested.forEach((r, i) => {
    r.holmP = adjusted[i] as number;
  });
  for (const r of relations) {
    if (r.comparison === null || r.verdict === "not assessed") continue;
    const [betterRow, worseRow] = rowsOf.get(r) ?? [];
    const line = chanceLine(betterRow, r.metric) ?? chanceLine(worseRow, r.metric);
    const verdict = pairedVerdict(r.comparison, {
      alpha: ALPHA,
      ...(r.holmP === null ? {} : { p: r.holmP }),
    });
    if (
      line !== null &&
      r.better !== null &&
      r.worse !== null &&
      r.better.mean <= line &&
      r.worse.mean <= line
    ) {
      r.verdict = "inconclusive";
      r.reason = `both sides are at chance level (below ${line.toFixed(2)} %), so the difference says nothing about the claim`;
    } else {
      r.verdict = verdict.verdict;
      r.reason = verdict.reason;
    }
  }
  return relations;
}

/** `mean ± std` with the metric's digits (`—` without data; the std is omitted for one seed). */
export function formatSummary(summary: Summary | null, metric: MetricName): string {
  if (summary === null) return "—";
  const digits = METRICS[metric].digits;
  return summary.std === null
    ? `${fmt(summary.mean, digits)} (1 seed)`
    : `${fmt(summary.mean, digits)} ± ${fmt(summary.std, digits)}`;
}
