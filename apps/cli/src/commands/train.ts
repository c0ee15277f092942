import { type Command, Option } from "commander";
import { addMethodOptions } from "../adapter-flags";
import type { OutputStreams } from "../output/context";
import type { TrainInputs } from "../run/experiment";
import { action } from "../support/command";
import { finiteNumber, nonNegativeInteger, oneOf, positiveInteger, wasmThreads } from "../support/options";

/** Options of `kora train`, as commander parses them (no defaults here: an experiment file may supply them). */
export interface TrainOptions extends TrainInputs {
  experiment?: string;
  resume?: boolean;
}

/** Adds the backend flags (`--backend`, `--threads`) shared by the commands that run a model. */
export function addBackendOption(command: Command): Command {
  return command
    .addOption(
      new Option(
        "--backend <name>",
        "tfjs backend: tensorflow, wasm or cpu (default: the first available)",
      ).argParser(oneOf(["tensorflow", "wasm", "cpu"] as const)),
    )
    .addOption(
      new Option(
        "--threads <n>",
        "wasm backend threads: 1-8 or auto (default: tfjs's single thread; KORA_WASM_THREADS overrides)",
      ).argParser(wasmThreads),
    );
}

/** Adds the optimisation flags shared by `kora train` and `kora transfer`. */
export function addOptimisationOptions(command: Command, defaults: { epochs: string }): Command {
  return command
    .option(
      "--epochs <n>",
      `passes over the training data (default ${defaults.epochs} when --steps is not given)`,
      positiveInteger,
    )
    .option("--steps <n>", "optimizer steps in total (with --epochs: whichever ends first)", positiveInteger)
    .option(
      "--batch-size <n>",
      "examples per step (default 32; the wasm heap limits large models)",
      positiveInteger,
    )
    .option("--lr <rate>", "peak learning rate of AdamW (default 1e-3)", finiteNumber)
    .option(
      "--weight-decay <wd>",
      "AdamW's decoupled weight decay; none on biases, norms, gates (default 0.01)",
      finiteNumber,
    )
    .option(
      "--warmup <steps>",
      "linear warm-up steps before the cosine decay (default 0)",
      nonNegativeInteger,
    )
    .option(
      "--seed <n>",
      "seed of the initialisation, data order and dropout (default 0)",
      nonNegativeInteger,
    )
    .option(
      "--checkpoint-every <n>",
      "save a checkpoint every n steps (always at the end and on Ctrl-C)",
      positiveInteger,
    )
    .option("--resume", "continue the run in --out from its latest checkpoint");
}

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
