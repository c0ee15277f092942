import type { Command } from "commander";
import type { OutputStreams } from "../output/context";
import { action } from "../support/command";
import type { DatasetsCheckOptions } from "./datasets-run";

/** Registers `kora datasets list` and `kora datasets check`. */
export function registerDatasets(program: Command, streams: OutputStreams): void {
  const datasets = program
    .command("datasets")
    .description("The datasets @kora/datasets reads: what exists, and whether a copy on disk is complete.");
  action(
    datasets
      .command("list")
      .description("List the registered datasets: task, splits, on-disk format, and where to get them."),
    streams,
    async (_options, output) => (await import("./datasets-run")).runDatasetsList(output),
  );
  const check = datasets
    .command("check")
    .description(
      "Open every split of a dataset and report what is found (examples, classes, image shape) and what is missing, with where to get it.",
    )
    .argument("<name>", "dataset name (see 'kora datasets list')")
    .option(
      "--root <dir>",
      "the folder as you unpacked it (fashion-mnist defaults to /usr/share/datasets/fashion-mnist)",
    )
    .option("--split <split>", "check only this split")
    .addHelpText(
      "after",
      `
Exit code 1 when a split cannot be opened; the message says what is missing and where to get it.

Examples:
  kora datasets check fashion-mnist
  kora datasets check cifar100 --root ~/data/cifar-100-binary
  kora datasets check synthetic-source --json`,
    );
  action<DatasetsCheckOptions>(check, streams, async (options, output, args) =>
    (await import("./datasets-run")).runDatasetsCheck(args[0]!, options, output),
  );
}
