import { type Command, InvalidArgumentError, Option } from "commander";
import type { OutputStreams } from "../output/context";
import { action } from "../support/command";
import { oneOf, positiveInteger, wasmThreads } from "../support/options";
import type { BackendOptions } from "./backend-run";

function seconds(value: string): number {
  const number = Number(value);
  if (value.trim() === "" || !Number.isFinite(number) || number < 0 || number > 60) {
    throw new InvalidArgumentError("expected seconds between 0 and 60.");
  }
  return number;
}

/** Registers `kora backend`. */
export function registerBackend(program: Command, streams: OutputStreams): void {
  const command = program
    .command("backend")
    .description(
      "Select the TensorFlow.js backend as @kora/tfjs does (KORA_BACKEND, --prefer, else tensorflow > wasm > cpu), list what is installed, and measure a matrix-multiply rate.",
    )
    .addOption(
      new Option("--prefer <backend>", "tensorflow, wasm or cpu (KORA_BACKEND overrides it)").argParser(
        oneOf(["tensorflow", "wasm", "cpu"] as const),
      ),
    )
    .addOption(
      new Option(
        "--threads <n>",
        "wasm backend threads: 1-8 or auto (default: tfjs's single thread; KORA_WASM_THREADS overrides)",
      ).argParser(wasmThreads),
    )
    .option("--seconds <s>", "how long to run the GEMM rate check, 0 to skip", seconds, 2)
    .option("--size <n>", "side of the square matrices multiplied", positiveInteger, 256)
    .addHelpText(
      "after",
      `
Examples:
  kora backend
  KORA_BACKEND=cpu kora backend --json
  kora backend --prefer wasm --seconds 5 --size 512
  kora backend --prefer wasm --threads auto`,
    );
  action<BackendOptions>(command, streams, async (options, output) =>
    (await import("./backend-run")).runBackend(options, output),
  );
}
