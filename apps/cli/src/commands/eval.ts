import type { Command } from "commander";
import type { OutputStreams } from "../output/context";
import { action } from "../support/command";
import { addBackendOption, addEvaluationDataOptions } from "../support/command-options";
import type { EvalOptions } from "./eval-run";

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
