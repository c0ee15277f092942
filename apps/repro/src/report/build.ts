import type { Claims } from "../claims";
import type { Preset } from "../config/presets";
import type { Experiment, MetricName, Variant } from "../config/schema";
import { runKey } from "../plan";
import type { RunResult } from "../results";
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
}

/** One experiment's table. */
export interface Table {
  experiment: Experiment;
  rows: Row[];
}

/** One directional claim checked on our numbers. */
export interface RelationCheck {
  claim: string;
  experiment: string;
  metric: MetricName;
  better: Summary | null;
  worse: Summary | null;
  betterLabel: string;
  worseLabel: string;
  verdict: string;
}

/** Everything the renderers need. */
export interface ReportModel {
  tables: Table[];
  relations: RelationCheck[];
  failures: RunResult[];
  leaks: Row[];
}

function fmt(value: number, digits: number): string {
  return value.toFixed(digits);
}

function comparability(preset: Preset): string | null {
  if (preset.name === "paper") return null;
  const model = "preset" in preset.model ? String(preset.model.preset) : "tiny custom";
  return `not comparable (${preset.name} preset: ${preset.source.dataset} → ${preset.target.dataset} on ${model}, not CIFAR-100 → Tiny-ImageNet on ViT-B/16)`;
}

function rowVerdict(preset: Preset, cells: Cell[], failed: number, ok: number): string {
  const compared = cells.filter((c) => c.claim !== null);
  if (ok === 0) return failed > 0 ? "no result: every run failed" : "no result";
  if (compared.length === 0) return "—";
  const reason = comparability(preset);
  if (reason !== null) return reason;
  const misses: string[] = [];
  for (const cell of compared) {
    if (cell.ours === null || cell.claim === null) continue;
    const info = METRICS[cell.metric];
    const tolerance = Math.max(info.tolerance(cell.claim), 2 * (cell.ours.std ?? 0));
    if (Math.abs(cell.ours.mean - cell.claim) > tolerance) {
      misses.push(`${info.title} ${fmt(cell.ours.mean, info.digits)} vs ${cell.claim}`);
    }
  }
  return misses.length === 0
    ? "reproduced (every claimed number within tolerance)"
    : `not reproduced: ${misses.join("; ")}`;
}

/** Builds the report's tables and verdicts from the results. */
export function buildReport(
  preset: Preset,
  experiments: readonly Experiment[],
  seeds: readonly number[],
  results: ReadonlyMap<string, RunResult>,
  claims: Claims,
): ReportModel {
  const tables: Table[] = [];
  const failures = new Map<string, RunResult>();
  const leaks: Row[] = [];
  for (const experiment of experiments) {
    const claimTable = experiment.claims === null ? undefined : claims.tables[experiment.claims];
    const rows: Row[] = experiment.variants.map((variant) => {
      const runResults = seeds
        .map((seed) => results.get(runKey(preset, variant.task, variant.method, variant.shuffleLabels, seed)))
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
        verdict: rowVerdict(preset, cells, failed.length, ok.length),
        leak,
        curve,
        cka,
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
  const relations: RelationCheck[] = [];
  for (const relation of claims.relations) {
    const table = tables.find((t) => t.experiment.id === relation.experiment);
    if (table === undefined) continue;
    const metric = relation.metric as MetricName;
    const pick = (id: string) => table.rows.find((r) => r.variant.id === id);
    const better = pick(relation.better);
    const worse = pick(relation.worse);
    const b = better?.cells.find((c) => c.metric === metric)?.ours ?? null;
    const w = worse?.cells.find((c) => c.metric === metric)?.ours ?? null;
    let verdict: string;
    if (b === null || w === null) verdict = "no result";
    else {
      const sign = relation.higherIsBetter ? 1 : -1;
      const difference = sign * (b.mean - w.mean);
      const se = Math.sqrt((b.std ?? 0) ** 2 / b.n + (w.std ?? 0) ** 2 / w.n);
      const digits = METRICS[metric].digits;
      const text = `difference ${fmt(difference, digits)} (2·SE ${fmt(2 * se, digits)}, n=${Math.min(b.n, w.n)})`;
      const chanceOf = (row: Row | undefined): number | null => {
        const ok = row?.results.find((r) => r.status === "ok");
        if (metric !== "accuracy" || ok === undefined || typeof ok.extra["chance"] !== "number") return null;
        const chance = ok.extra["chance"] as number;
        const p = chance / 100;
        const n = Number(ok.extra["evalExamples"] ?? 1);
        return chance + 100 * 3 * Math.sqrt((p * (1 - p)) / Math.max(1, n)) + 1;
      };
      const chanceLine = chanceOf(better) ?? chanceOf(worse);
      if (chanceLine !== null && b.mean <= chanceLine && w.mean <= chanceLine) {
        verdict = `not comparable: both sides are at chance level (below ${fmt(chanceLine, 2)} %), ${text}`;
      } else if (b.n < 2 || w.n < 2) verdict = `not comparable: one seed, no spread (${text})`;
      else if (difference > 2 * se) verdict = `reproduced: ${text}`;
      else if (difference < -2 * se) verdict = `not reproduced, the opposite holds: ${text}`;
      else verdict = `not reproduced: within noise, ${text}`;
    }
    relations.push({
      claim: relation.claim,
      experiment: relation.experiment,
      metric,
      better: b,
      worse: w,
      betterLabel: better?.variant.label ?? relation.better,
      worseLabel: worse?.variant.label ?? relation.worse,
      verdict,
    });
  }
  return { tables, relations, failures: [...failures.values()], leaks };
}

/** `mean ± std` with the metric's digits (`—` without data; the std is omitted for one seed). */
export function formatSummary(summary: Summary | null, metric: MetricName): string {
  if (summary === null) return "—";
  const digits = METRICS[metric].digits;
  return summary.std === null
    ? `${fmt(summary.mean, digits)} (1 seed)`
    : `${fmt(summary.mean, digits)} ± ${fmt(summary.std, digits)}`;
}
