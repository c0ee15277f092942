import { Command, CommanderError } from "commander";
import packageJson from "../package.json";
import { registerBackend } from "./commands/backend";
import { registerCka } from "./commands/cka";
import { registerDatasets } from "./commands/datasets";
import { registerEval } from "./commands/eval";
import { registerExport } from "./commands/export";
import { registerFeatures } from "./commands/features";
import { registerInspect } from "./commands/inspect";
import { registerMerge } from "./commands/merge";
import { registerPredict } from "./commands/predict";
import { registerPretrain } from "./commands/pretrain";
import { registerTrain } from "./commands/train";
import { registerTransfer } from "./commands/transfer";
import type { GlobalFlags, OutputStreams } from "./output/context";
import { EXIT, InterruptedError, UsageError } from "./support/errors";

/** Collapses a (possibly multi-line) message to one line. */
function oneLine(text: string): string {
  return text
    .trim()
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .join(" ");
}

/**
 * The `kora` program: global flags, help layout, typo suggestions, and errors routed to {@link main} (commander
 * never calls `process.exit` itself).
 */
export function createProgram(streams: OutputStreams): Command {
  const program = new Command("kora");
  program
    .description(
      "KoRA-TS on the command line: train, evaluate and transfer adapters on a ViT, extract features and compare them with CKA, merge and export adapters, count parameters, predict, check datasets and backends.",
    )
    .version(packageJson.version, "-V, --version", "print the version")
    .option("--json", "write machine-readable JSON to stdout (and nothing else)")
    .option("--verbose", "print the stack trace of an error")
    .option("--no-color", "disable colours (NO_COLOR=1 does the same)")
    .helpOption("-h, --help", "show help")
    .helpCommand("help [command]", "show help for a command")
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({
      writeOut: (text) => streams.stdout.write(text),
      writeErr: (text) => streams.stderr.write(text),
      outputError: (text, write) => write(`kora: ${oneLine(text)}\n`),
    });
  program.addHelpText(
    "after",
    `
Exit codes: 0 ok, 1 failure, 2 bad usage, 130 stopped by Ctrl-C (train, transfer: a checkpoint was saved). Run 'kora <command> --help' for a command's flags.`,
  );
  registerPretrain(program, streams);
  registerTrain(program, streams);
  registerEval(program, streams);
  registerTransfer(program, streams);
  registerFeatures(program, streams);
  registerMerge(program, streams);
  registerExport(program, streams);
  registerInspect(program, streams);
  registerCka(program, streams);
  registerDatasets(program, streams);
  registerPredict(program, streams);
  registerBackend(program, streams);
  return program;
}

/** Prints an error as one line (and its stack with `--verbose`) and returns the exit code for it. */
export async function reportError(
  error: unknown,
  streams: OutputStreams,
  flags: GlobalFlags,
): Promise<number> {
  if (error instanceof CommanderError) {
    // commander has already printed its message (through outputError); help and --version exit with 0.
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  const usage = error instanceof UsageError;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof InterruptedError) {
    streams.stderr.write(`kora: ${oneLine(message)}\n`);
    return EXIT.interrupted;
  }
  streams.stderr.write(`kora: error: ${oneLine(message)}\n`);
  if (flags.verbose === true) {
    let current: unknown = error;
    while (current instanceof Error) {
      streams.stderr.write(`${current.stack ?? current.message}\n`);
      current = current.cause;
      if (current !== undefined) streams.stderr.write("caused by: ");
    }
    if (current !== undefined && !(current instanceof Error)) streams.stderr.write(`${String(current)}\n`);
  } else if (!usage && !(await import("@kora/spec")).KoraError.isInstance(error)) {
    streams.stderr.write("kora: (an unexpected error; run again with --verbose for the stack trace)\n");
  }
  return usage ? EXIT.usage : EXIT.failure;
}

/** Runs `kora` with `argv` (without the node and script paths) and resolves to the exit code. */
export async function main(argv: readonly string[], streams: OutputStreams): Promise<number> {
  const program = createProgram(streams);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return EXIT.ok;
  } catch (error) {
    return await reportError(error, streams, program.opts<GlobalFlags>());
  }
}
