import { type Command, Option } from "commander";
import type { OutputStreams } from "../output/context";
import { action } from "../support/command";
import { addBackendOption } from "../support/command-options";
import { finiteNumber, nonNegativeInteger, oneOf, positiveInteger } from "../support/options";
import type { PretrainCommandOptions } from "./pretrain-run";

/** Registers `kora pretrain`. */
export function registerPretrain(program: Command, streams: OutputStreams): void {
  const command = program
    .command("pretrain")
    .description(
      "Train a ViT from scratch on a labelled dataset (every weight trains); writes a backbone folder (model.safetensors + config.json) that --weights accepts everywhere.",
    )
    .option(
      "--backbone <name>",
      "a @kora/vit preset to build: vit-mini-28, vit-micro, vit-micro-28, vit-tiny-32, … (its head gets the dataset's classes)",
    )
    .option(
      "--dataset <name>",
      "training data, e.g. fashion-mnist or synthetic-pretrain ('kora datasets list')",
    )
    .option("--root <dir>", "folder of the dataset on disk (synthetic suites need none)")
    .option(
      "--label-map <labels>",
      "pretrain on coarser labels: the new label of each class, comma-separated in class order (e.g. 0,1,0,0,0,2,0,2,3,2)",
    )
    .option(
      "--items <start:end>",
      "train on items start … end−1 of the train split only (keeps the rest unseen, e.g. for a downstream task)",
    )
    .option(
      "--steps <n>",
      "optimizer steps in total (required; the warm-up and cosine decay are laid over them)",
      positiveInteger,
    )
    .option("--batch-size <n>", "examples per step (default 64)", positiveInteger)
    .option("--lr <rate>", "peak learning rate of AdamW (default 1e-3)", finiteNumber)
    .option(
      "--weight-decay <wd>",
      "AdamW's decoupled weight decay; none on biases and norms (default 0.05)",
      finiteNumber,
    )
    .option(
      "--warmup <steps>",
      "linear warm-up steps before the cosine decay (default 10 % of --steps)",
      nonNegativeInteger,
    )
    .addOption(
      new Option(
        "--init <scheme>",
        "weight-matrix initialisation: lecun (default) or hf (N(0, 0.02))",
      ).argParser(oneOf(["lecun", "hf"] as const)),
    )
    .option(
      "--seed <n>",
      "seed of the initialisation, data order and dropout (default 0)",
      nonNegativeInteger,
    )
    .option(
      "--eval-items <n>",
      "held-out accuracy on the first n items of the test split (default 2000; 0 skips it)",
      nonNegativeInteger,
    )
    .addOption(
      new Option("--dtype <type>", "weights written as f32 (default) or f16 (half the size)").argParser(
        oneOf(["f32", "f16"] as const),
      ),
    )
    .option(
      "--checkpoint-every <n>",
      "save a checkpoint every n steps (always at the end and on Ctrl-C)",
      positiveInteger,
    )
    .option(
      "--resume",
      "continue the interrupted pretraining in --out from its latest checkpoint (give the same flags again)",
    )
    .option("--out <dir>", "folder to write (model.safetensors, config.json, pretrain.json, metrics.jsonl)");
  addBackendOption(command).addHelpText(
    "after",
    `
Required: --backbone, --dataset, --steps, --out. The run is sized in optimizer steps, not epochs: the
learning-rate schedule (linear warm-up, then cosine decay to 0) is laid over --steps, so a run is the same
length whatever --items selects.

pretrain.json records the exact settings, the held-out accuracy (measured on the weights as written, f16
rounding included), the time it took, the machine and the SHA-256 of model.safetensors: the facts a model card
needs. metrics.jsonl has one line per step (loss, lr, gradient norm, images/s).

Ctrl-C stops after the step in progress and saves a checkpoint (exit code 130); the same command with --resume
continues from it and ends with the weights an uninterrupted run gives. A changed setting (other than
--checkpoint-every, --eval-items, --dtype, --backend, --threads) is refused.

Examples:
  kora pretrain --backbone vit-micro-28 --dataset fashion-mnist --steps 300 --out backbones/micro
  kora pretrain --backbone vit-mini-28 --dataset fashion-mnist --items 0:50000 --steps 4000 --threads auto \\
                --dtype f16 --out backbones/mini
  kora train --weights backbones/micro --dataset fashion-mnist --method lora --steps 100 --out runs/lora`,
  );
  action<PretrainCommandOptions>(command, streams, async (options, output) =>
    (await import("./pretrain-run")).runPretrain(options, output),
  );
}
