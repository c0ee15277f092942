import { type Command, InvalidArgumentError } from "commander";
import type { OutputStreams } from "../output/context";
import { action } from "../support/command";
import { addBackendOption, addOptimisationOptions } from "../support/command-options";
import { positiveInteger } from "../support/options";
import type { TransferOptions } from "./transfer-run";

function fraction(value: string): number {
  const number = Number(value);
  if (value.trim() === "" || !(number > 0 && number <= 1)) {
    throw new InvalidArgumentError("expected a fraction in (0, 1].");
  }
  return number;
}

/** Registers `kora transfer`. */
export function registerTransfer(program: Command, streams: OutputStreams): void {
  const command = program
    .command("transfer")
    .description(
      "Transfer a trained run to another dataset (experiment 4.2): a new head for the target classes, adapter + head fine-tuned on a fixed class-stratified fraction of the target train split, then evaluated on the full target test split.",
    )
    .requiredOption("--from <dir>", "the source run folder (from 'kora train')")
    .requiredOption("--dataset <name>", "target dataset, e.g. synthetic-target")
    .option("--root <dir>", "folder of the target dataset on disk (synthetic suites need none)")
    .option("--fraction <f>", "fraction of the target train split, exact per class (default 0.01)", fraction)
    .option("--per-class <n>", "or this many training examples per class", positiveInteger)
    .requiredOption("--out <dir>", "the transfer run folder to write");
  addOptimisationOptions(command, { epochs: "1" })
    .option("--eval-batch-size <n>", "examples per forward pass of the final evaluation", positiveInteger, 64)
    .option(
      "--eval-limit <n>",
      "evaluate on the first n target test examples only (default: all)",
      positiveInteger,
    );
  addBackendOption(command).addHelpText(
    "after",
    `
The subset is @kora/datasets' stratifiedSubset (the same examples for the same --seed). The transfer run folder
is a run like any other: 'kora eval', 'features', 'merge' and 'export' read it.

Examples:
  kora transfer --from runs/kora --dataset synthetic-target --fraction 0.01 --epochs 1 --out runs/kora-target
  kora transfer --from runs/lora --dataset cifar100 --root ~/data/cifar-100-binary --per-class 5 --out runs/lora-c100`,
  );
  action<TransferOptions>(command, streams, async (options, output) =>
    (await import("./transfer-run")).runTransfer(options, output),
  );
}
