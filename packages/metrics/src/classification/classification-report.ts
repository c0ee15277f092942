import { KoraError } from "../errors";
import type { MetricsErrorCode } from "../errors/kora-error";
import {
  checkZeroDivision,
  countPerLabel,
  nanAverage,
  type PrecisionRecallF1Support,
  scoresFromCounts,
} from "./f1-score";
import { type Label, type LabelArray, toLabelPair, uniqueSorted } from "./labels";

/** Options of {@link classificationReport}. */
export interface ClassificationReportOptions {
  /** Labels to report, in this order. Default: sorted union of `yTrue` and `yPred`. */
  labels?: LabelArray;
  /** Display names for the labels (same length as the labels). Default: the labels as strings. */
  targetNames?: readonly string[];
  /** See {@link F1ScoreOptions.zeroDivision}. Default `0`. */
  zeroDivision?: number;
  /** Decimal places in `text`. Default `2`. */
  digits?: number;
}

/** One row of a {@link ClassificationReport}. */
export interface ClassificationReportRow {
  /** Precision. */
  precision: number;
  /** Recall. */
  recall: number;
  /** F1 score. */
  f1: number;
  /** Number of true examples (for averages: of all reported labels). */
  support: number;
}

/** Per-class row of a {@link ClassificationReport}. */
export interface ClassificationReportClassRow extends ClassificationReportRow {
  /** The label. */
  label: Label;
  /** Display name (from `targetNames`, else the label). */
  name: string;
}

/** Result of {@link classificationReport}, the structure of scikit-learn's `output_dict=True`. */
export interface ClassificationReport {
  /** One row per label. */
  classes: ClassificationReportClassRow[];
  /** Accuracy, present when the reported labels cover every label seen (then it equals the micro average). */
  accuracy?: number;
  /** Micro average, present instead of `accuracy` when only a subset of labels is reported. */
  microAvg?: ClassificationReportRow;
  /** Unweighted mean over labels. */
  macroAvg: ClassificationReportRow;
  /** Mean weighted by support. */
  weightedAvg: ClassificationReportRow;
  /** Plain-text table laid out like scikit-learn's `classification_report`. */
  text: string;
}

/**
 * Per-class precision, recall, F1 and support plus accuracy / micro, macro and weighted averages, as
 * scikit-learn's `classification_report` (structure of `output_dict=True`, and the text table in `text`).
 *
 * @throws KoraError `SHAPE_MISMATCH`, `TOO_FEW_EXAMPLES`, `NON_FINITE`, `INVALID_ARGUMENT`.
 */
export function classificationReport(
  yTrue: LabelArray,
  yPred: LabelArray,
  options: ClassificationReportOptions = {},
): ClassificationReport {
  const zeroDivision = checkZeroDivision(options.zeroDivision);
  const digits = options.digits ?? 2;
  if (!Number.isInteger(digits) || digits < 0 || digits > 15) {
    throw new KoraError<MetricsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `options.digits must be an integer in [0, 15], got ${digits}`,
      path: "options.digits",
    });
  }
  const { labels, tp, fp, fn } = countPerLabel(yTrue, yPred, options.labels);
  const names = options.targetNames ?? labels.map(String);
  if (names.length !== labels.length) {
    throw new KoraError<MetricsErrorCode>({
      code: "SHAPE_MISMATCH",
      message: `options.targetNames must name each of the ${labels.length} labels, got ${names.length} names`,
      path: "options.targetNames",
    });
  }
  const per: Omit<PrecisionRecallF1Support, "labels"> = scoresFromCounts(tp, fp, fn, zeroDivision);
  const classes = labels.map((label, i) => ({
    label,
    name: names[i]!,
    precision: per.precision[i]!,
    recall: per.recall[i]!,
    f1: per.f1[i]!,
    support: per.support[i]!,
  }));
  const totalSupport = per.support.reduce((s, v) => s + v, 0);
  const average = (weights?: number[]): ClassificationReportRow => ({
    precision: nanAverage(per.precision, weights),
    recall: nanAverage(per.recall, weights),
    f1: nanAverage(per.f1, weights),
    support: totalSupport,
  });
  const sum = (a: number[]): number => a.reduce((s, v) => s + v, 0);
  const micro = scoresFromCounts([sum(tp)], [sum(fp)], [sum(fn)], zeroDivision);
  const microRow: ClassificationReportRow = {
    precision: micro.precision[0]!,
    recall: micro.recall[0]!,
    f1: micro.f1[0]!,
    support: totalSupport,
  };
  const [t, p] = toLabelPair(yTrue, yPred);
  const reported = new Set<Label>(labels);
  const microIsAccuracy = uniqueSorted(t, p).every((label) => reported.has(label));
  const report: ClassificationReport = {
    classes,
    macroAvg: average(),
    weightedAvg: average(per.support),
    text: "",
  };
  if (microIsAccuracy) report.accuracy = microRow.f1;
  else report.microAvg = microRow;
  report.text = formatReport(report, digits);
  return report;
}

function formatReport(report: ClassificationReport, digits: number): string {
  const width = Math.max("weighted avg".length, digits, ...report.classes.map((c) => c.name.length));
  const num = (v: number): string => (Number.isNaN(v) ? "nan" : v.toFixed(digits)).padStart(9);
  const int = (v: number): string => String(v).padStart(9);
  const row = (name: string, r: ClassificationReportRow): string =>
    `${name.padStart(width)}  ${num(r.precision)} ${num(r.recall)} ${num(r.f1)} ${int(r.support)}\n`;
  let text = `${"".padStart(width)}  ${["precision", "recall", "f1-score", "support"].map((h) => h.padStart(9)).join(" ")}\n\n`;
  for (const c of report.classes) text += row(c.name, c);
  text += "\n";
  if (report.accuracy !== undefined) {
    text += `${"accuracy".padStart(width)}  ${"".padStart(9)} ${"".padStart(9)} ${num(report.accuracy)} ${int(report.macroAvg.support)}\n`;
  } else if (report.microAvg !== undefined) {
    text += row("micro avg", report.microAvg);
  }
  text += row("macro avg", report.macroAvg);
  text += row("weighted avg", report.weightedAvg);
  return text;
}
