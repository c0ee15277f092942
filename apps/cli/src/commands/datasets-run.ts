import type { Dataset } from "@kora/datasets";
import { getDataset, listDatasets, openDataset } from "@kora/datasets/node";
import { didYouMean, KoraError } from "@kora/spec";
import type { Output } from "../output/context";
import { formatInteger, renderFields, renderTable } from "../output/table";
import { UsageError } from "../support/errors";

/** Options of `kora datasets check`, as commander parses them. */
export interface DatasetsCheckOptions {
  root?: string;
  split?: string;
}

/** Runs `kora datasets list`. */
export function runDatasetsList(output: Output): void {
  const rows = listDatasets().map((name) => {
    const d = getDataset(name);
    return {
      name,
      task: d.task,
      splits: [...d.splits],
      format: d.format,
      source: d.source,
      license: d.license,
    };
  });
  output.result(
    () => ({ datasets: rows }),
    () =>
      `${renderTable(
        [{ header: "name" }, { header: "task" }, { header: "splits" }, { header: "format" }],
        rows.map((r) => [r.name, r.task, r.splits.join(","), r.format]),
        (t) => output.style("bold", t),
      )}\n\nRun 'kora datasets check NAME --root DIR' to check a copy on disk and see where to get it.`,
  );
}

/** What `check` found for one split. */
interface SplitReport {
  split: string;
  found: boolean;
  size?: number;
  classes?: number;
  imageShape?: readonly number[];
  depthShape?: readonly number[];
  error?: { code: string; message: string };
}

function describe(dataset: Dataset): Omit<SplitReport, "split" | "found"> {
  return {
    size: dataset.size,
    imageShape: dataset.imageShape,
    ...(dataset.task === "depth" ? { depthShape: dataset.depthShape } : { classes: dataset.classes.length }),
  };
}

/** Runs `kora datasets check NAME`. */
export async function runDatasetsCheck(
  name: string,
  options: { root?: string; split?: string },
  output: Output,
): Promise<void> {
  const names = listDatasets();
  if (!names.includes(name)) {
    throw new UsageError(`unknown dataset "${name}"; known: ${names.join(", ")}${didYouMean(name, names)}`);
  }
  const definition = getDataset(name);
  const splits = definition.splits.filter((s) => s !== "all");
  if (options.split !== undefined && !(definition.splits as readonly string[]).includes(options.split)) {
    throw new UsageError(
      `--split: ${name} has splits ${definition.splits.join(", ")}, not "${options.split}"${didYouMean(options.split, definition.splits)}`,
    );
  }
  const reports: SplitReport[] = [];
  for (const split of options.split === undefined ? splits : [options.split]) {
    try {
      const dataset = await openDataset(name, {
        split: split as (typeof splits)[number],
        ...(options.root === undefined ? {} : { root: options.root }),
      });
      reports.push({ split, found: true, ...describe(dataset) });
    } catch (error) {
      if (!KoraError.isInstance(error)) throw error;
      reports.push({ split, found: false, error: { code: error.code, message: error.message } });
    }
  }
  const missing = reports.filter((r) => !r.found);
  output.result(
    () => ({
      name,
      task: definition.task,
      root: options.root ?? null,
      ok: missing.length === 0,
      splits: reports,
      source: definition.source,
    }),
    () => {
      const table = renderTable(
        [
          { header: "split" },
          { header: "status" },
          { header: "examples", align: "right" },
          { header: "classes", align: "right" },
          { header: "image" },
        ],
        reports.map((r) => [
          r.split,
          r.found ? output.style("green", "found") : output.style("red", "missing"),
          r.size === undefined ? "" : formatInteger(r.size),
          r.classes === undefined ? "" : String(r.classes),
          r.imageShape === undefined ? "" : r.imageShape.join("×"),
        ]),
        (t) => output.style("bold", t),
      );
      const fields: [string, string][] = [
        ["dataset", `${name} (${definition.task}, ${definition.format})`],
        ["root", options.root ?? "(default)"],
        ["license", definition.license],
      ];
      if (missing.length > 0) fields.push(["get it", definition.source]);
      return `${renderFields(fields, (t) => output.style("bold", t))}\n\n${table}`;
    },
  );
  const first = missing[0];
  if (first?.error !== undefined) {
    throw new KoraError({
      code: first.error.code,
      message:
        missing.length === reports.length
          ? first.error.message
          : `${name}: split ${missing.map((r) => r.split).join(", ")} not usable: ${first.error.message}`,
    });
  }
}
