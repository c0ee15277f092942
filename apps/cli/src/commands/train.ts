import { type Command, Option } from "commander";
import { addMethodOptions } from "../adapter-flags";
import type { OutputStreams } from "../output/context";
import { action } from "../support/command";
import { addBackendOption, addOptimisationOptions } from "../support/command-options";
import type { TrainOptions } from "./train-run";

/** Registers `kora train`. */
export function registerTrain(program: Command, streams: OutputStreams): void {
  const command = program
    .command("train")
    .description(
      "Train an adapter (LoRA, KoRA or AdapterFusion) and a head on a frozen ViT; writes a run folder that eval, transfer, features, merge and export read.",
    )
    .addOption(
      new Option(
        "--backbone <name>",
        "a @kora/vit preset (randomly initialised from --seed): vit-micro, vit-tiny, vit-small, vit-base, vit-tiny-32, …",
      ).conflicts("weights"),
    )
    .option(
      "--weights <file>",
      "pretrained backbone: model.safetensors (Hugging Face or timm) or a checkpoint folder",
    )
    .option("--config <file>", "the backbone's config.json (default: the one beside --weights)")
    .option(
      "--dataset <name>",
      "training data, e.g. synthetic-source, synthetic-depth, cifar100, fashion-mnist ('kora datasets list')",
    )
    .option("--root <dir>", "folder of the dataset on disk (synthetic suites need none)");
  addMethodOptions(command);
  addOptimisationOptions(command, { epochs: "1" })
    .option(
      "--out <dir>",
      "run folder to write (run.json, adapter.json + adapter.safetensors, checkpoints/, metrics.jsonl)",
    )
    .option(
      "--experiment <file>",
      "read the settings from a JSON or YAML file (the flags' names as keys, camelCase); flags given as well win",
    );
  addBackendOption(command).addHelpText(
    "after",
    `
The head is new: a classification head for the dataset's classes, or a depth head for a depth dataset. Only the
adapter and the head train. Ctrl-C stops after the current step and saves a checkpoint (exit code 130); --resume
continues from it.

Examples:
  kora train --backbone vit-micro --dataset synthetic-source --method kora --d-comp 8 --steps 200 --out runs/kora
  kora train --weights vit-base/model.safetensors --dataset cifar100 --root ~/data/cifar-100-binary \\
             --method lora --rank 16 --alpha 16 --epochs 3 --batch-size 16 --checkpoint-every 500 --out runs/lora
  kora train --experiment experiment.yaml
  kora train --resume --out runs/kora`,
  );
  action<TrainOptions>(command, streams, async (options, output) =>
    (await import("./train-run")).runTrain(options, output),
  );
}
