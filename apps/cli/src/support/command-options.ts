import { type Command, Option } from "commander";
import { finiteNumber, nonNegativeInteger, oneOf, positiveInteger, wasmThreads } from "./options";

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
      "--gate-lr-multiplier <x>",
      "multiplies the learning rate of the adapter's learnable gates (KoRA, gated-bottleneck, gated-lora; default 1)",
      finiteNumber,
    )
    .option(
      "--head-lr <x>",
      "learning rate of the new task head, default --lr; e.g. a linear probe's rate for the head beside a small --lr for the adapter",
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

/** Adds `--dataset`, `--root`, `--split`, `--batch-size` and `--limit` (evaluation data of a run). */
export function addEvaluationDataOptions(command: Command, what: string): Command {
  return command
    .option("--dataset <name>", `dataset to ${what} (default: the run's)`)
    .option("--root <dir>", "folder of the dataset on disk (default: the run's; synthetic suites need none)")
    .option("--split <split>", "split to use (default: test, or val when the dataset has no test split)")
    .option("--batch-size <n>", "examples per forward pass", positiveInteger, 64)
    .option("--limit <n>", "use the first n examples of the split only", positiveInteger);
}
