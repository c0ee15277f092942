import type { Command } from "commander";
import type { OutputStreams } from "../output/context";
import { action } from "../support/command";
import { addBackendOption } from "../support/command-options";
import type { MergeOptions } from "./merge-run";

/** Registers `kora merge`. */
export function registerMerge(program: Command, streams: OutputStreams): void {
  const command = program
    .command("merge")
    .description(
      "Fold a LoRA run's adapter into the backbone (W + s·B·A) and write the merged model with its head as a Hugging Face ViT checkpoint, loadable by 'kora predict'.",
    )
    .requiredOption(
      "--run <dir>",
      "a LoRA run folder (KoRA and AdapterFusion are not linear and cannot be merged)",
    )
    .requiredOption(
      "--out <path>",
      "FILE.safetensors (config.json is written beside it) or a folder (model.safetensors + config.json)",
    )
    .option("--force", "replace model.safetensors / config.json when they exist already");
  addBackendOption(command).addHelpText(
    "after",
    `
Examples:
  kora merge --run runs/lora --out merged/model.safetensors
  kora predict --weights merged/model.safetensors --input image.png`,
  );
  action<MergeOptions>(command, streams, async (options, output) =>
    (await import("./merge-run")).runMerge(options, output),
  );
}
