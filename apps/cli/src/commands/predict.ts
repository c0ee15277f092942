import { type Command, Option } from "commander";
import type { OutputStreams } from "../output/context";
import { action } from "../support/command";
import { addBackendOption } from "../support/command-options";
import { positiveInteger } from "../support/options";
import type { PredictOptions } from "./predict-run";

/** Registers `kora predict`. */
export function registerPredict(program: Command, streams: OutputStreams): void {
  const command = program
    .command("predict")
    .description(
      "Classify images with a ViT checkpoint (Hugging Face or timm safetensors + config.json): top-k classes, or the raw logits with --json.",
    )
    .addOption(
      new Option(
        "--weights <file>",
        "model.safetensors, or a checkpoint folder (model.safetensors + config.json)",
      ).conflicts("run"),
    )
    .addOption(
      new Option(
        "--run <dir>",
        "instead of --weights: a run folder of 'kora train' / 'kora transfer' (backbone + adapter + head)",
      ).conflicts("config"),
    )
    .option(
      "--config <file>",
      "config.json (Hugging Face or timm); default: the config.json beside the weights",
    )
    .requiredOption(
      "--input <file>",
      "a PNG/JPEG image (resized and normalised with the config's mean/std), or a .safetensors with pixel_values [B, C, H, W] as Hugging Face's processor writes it",
    )
    .option("--top-k <k>", "classes to print per image", positiveInteger, 5);
  addBackendOption(command).addHelpText(
    "after",
    `
With --json the output is {"logits": [[...], ...]}: one row per image, exactly as the model computes them.

Examples:
  kora predict --weights vit-base-patch16-224 --input cat.jpg
  kora predict --weights model.safetensors --config config.json --input pixel_values.safetensors --json
  kora predict --run runs/kora --input image.png`,
  );
  action<PredictOptions>(command, streams, async (options, output) =>
    (await import("./predict-run")).runPredict(options, output),
  );
}
