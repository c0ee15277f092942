import type { Command } from "commander";
import { createOutput, type GlobalFlags, type Output, type OutputStreams } from "../output/context";

/**
 * Attaches `run` as the action of `command`: it receives the command's own options (typed by the caller), its
 * positional arguments and the {@link Output} built from the global flags. Errors propagate to `main`.
 */
export function action<Options>(
  command: Command,
  streams: OutputStreams,
  run: (options: Options, output: Output, args: string[]) => Promise<void> | void,
): Command {
  return command.action(async (...params: unknown[]) => {
    const self = params[params.length - 1] as Command;
    const output = createOutput(streams, self.optsWithGlobals<GlobalFlags>());
    await run(self.opts() as Options, output, self.args);
  });
}
