import type { Command } from "commander";
import type { OutputStreams } from "../output/context";
import type { BackendInputs } from "../run/experiment";
import { action } from "../support/command";
import { positiveInteger } from "../support/options";
import { addBackendOption } from "./train";

/** Options of `kora eval`, as commander parses them. */
export interface EvalOptions extends BackendInputs {
  run: string;
  dataset?: string;
  root?: string;
  split?: string;
  batchSize: number;
  limit?: number;
}

/** Adds `--dataset`, `--root`, `--split`, `--batch-size` and `--limit` (evaluation data of a run). */
export function addEvaluationDataOptions(command: Command, what: string): Command {
  return command
    .option("--dataset <name>", `dataset to ${what} (default: the run's)`)
    .option("--root <dir>", "folder of the dataset on disk (default: the run's; synthetic suites need none)")
    .option("--split <split>", "split to use (default: test, or val when the dataset has no test split)")
    .option("--batch-size <n>", "examples per forward pass", positiveInteger, 64)
    .option("--limit <n>", "use the first n examples of the split only", positiveInteger);
}

/** Registers `kora eval`. */
export function registerEval(program: Command, streams: OutputStreams): void {
  const command = program
    .command("eval")
    .description(
      "Evaluate a trained run: accuracy, macro-F1 and the confusion matrix, or the depth metrics of a depth run.",
    )
    .requiredOption("--run <dir>", "run folder written by 'kora train' or 'kora transfer'");
  addEvaluationDataOptions(command, "evaluate on");
  addBackendOption(command).addHelpText(
    "after",
    `
Examples:
  kora eval --run runs/kora                                  # the run's dataset, test split
  kora eval --run runs/kora --split train --limit 1000 --json`,
  );
  action<EvalOptions>(command, streams, async (options, output) =>
    (await import("./eval-run")).runEval(options, output),
  );
}
