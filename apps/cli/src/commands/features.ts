import { type Command, InvalidArgumentError, Option } from "commander";
import type { OutputStreams } from "../output/context";
import { action } from "../support/command";
import { addBackendOption, addEvaluationDataOptions } from "../support/command-options";
import { integerList, oneOf } from "../support/options";
import type { FeaturesOptions } from "./features-run";

function layerList(value: string): number[] | "all" {
  if (value.trim() === "all") return "all";
  try {
    return integerList(value);
  } catch {
    throw new InvalidArgumentError('expected block numbers such as 0,6,11, or "all".');
  }
}

/** Registers `kora features`. */
export function registerFeatures(program: Command, streams: OutputStreams): void {
  const command = program
    .command("features")
    .description(
      "Extract a run's block outputs (pooled per example) into one safetensors file, one tensor per block, for 'kora cka'.",
    )
    .requiredOption("--run <dir>", "run folder written by 'kora train' or 'kora transfer'")
    .requiredOption("--out <file>", "the .safetensors file to write")
    .option("--force", "replace the --out file when it exists");
  addEvaluationDataOptions(command, "extract features of")
    .option("--layers <list>", 'blocks whose output to keep: 0,6,11 or "all" (default all)', layerList, "all")
    .addOption(
      new Option("--pool <how>", "token pooling: cls (the CLS token) or mean (mean of the patch tokens)")
        .argParser(oneOf(["cls", "mean"] as const))
        .default("cls"),
    )
    .option(
      "--no-adapter",
      "the run's backbone without its adapter (the frozen reference for CKA similarity)",
    );
  addBackendOption(command).addHelpText(
    "after",
    `
Tensors are named block.0, block.1, … ([examples, dim], float32): block k's output, before the final LayerNorm.

Examples:
  kora features --run runs/kora --layers all --pool cls --limit 500 --out kora.safetensors
  kora features --run runs/kora --layers all --pool cls --limit 500 --no-adapter --out frozen.safetensors
  kora cka --x kora.safetensors --y frozen.safetensors --svg cka.svg`,
  );
  action<FeaturesOptions>(command, streams, async (options, output) =>
    (await import("./features-run")).runFeatures(options, output),
  );
}
