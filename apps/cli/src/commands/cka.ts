import { type Command, Option } from "commander";
import type { OutputStreams } from "../output/context";
import { action } from "../support/command";
import { finiteNumber, oneOf, positiveInteger } from "../support/options";
import type { CkaOptions } from "./cka-run";

/** Registers `kora cka`. */
export function registerCka(program: Command, streams: OutputStreams): void {
  const command = program
    .command("cka")
    .description(
      "Centered kernel alignment between two sets of features (rows = examples): one value for one tensor each, a layer × layer matrix for whole files.",
    )
    .requiredOption(
      "--x <file[:tensor]>",
      "features: a .safetensors file (every tensor a layer), FILE:TENSOR, or a .npy",
    )
    .requiredOption(
      "--y <file[:tensor]>",
      "the features to compare with, same forms as --x (same examples, same order)",
    )
    .addOption(
      new Option("--kernel <kernel>", "linear or rbf")
        .argParser(oneOf(["linear", "rbf"] as const))
        .default("linear"),
    )
    .option(
      "--threshold <t>",
      "rbf bandwidth: sigma = t * sqrt(median squared distance) (default 1)",
      finiteNumber,
    )
    .option("--debiased", "debiased estimator (unbiased HSIC; needs at least 4 examples)")
    .option(
      "--minibatch <b>",
      "minibatch linear CKA over consecutive batches of b examples (Nguyen et al. 2021)",
      positiveInteger,
    )
    .option("--svg <out>", "also draw the result as an SVG heatmap")
    .option("--png <out>", "also draw the result as a PNG heatmap (rendered with sharp)")
    .option("--force", "replace the --svg / --png files when they exist")
    .addHelpText(
      "after",
      `
Tensors are read as [examples, ...] and flattened to examples × features; a whole file's tensors are taken in
natural name order (layer.2 before layer.10).

Examples:
  kora cka --x feats.safetensors:x --y feats.safetensors:y --json        # {"cka": 0.495...}
  kora cka --x lora.safetensors --y kora.safetensors --svg cka.svg       # block × block matrix
  kora cka --x a.npy --y b.npy --kernel rbf --threshold 0.5 --debiased
  kora cka --x a.safetensors --y a.safetensors --minibatch 256`,
    );
  action<CkaOptions>(command, streams, async (options, output) =>
    (await import("./cka-run")).runCka(options, output),
  );
}
