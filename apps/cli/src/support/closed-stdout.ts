/** Exit code when the reader of stdout went away: 128 + SIGPIPE, what a shell reports for a tool ended by it. */
export const EXIT_BROKEN_PIPE = 141;

/**
 * Ends the process quietly when stdout cannot be written: a reader that closed the pipe early
 * (`kora train --help | head -c1`) is normal use and ends with {@link EXIT_BROKEN_PIPE} and no message; any other
 * write failure (`> /dev/full`: ENOSPC) is one line on stderr and exit code 1. Without this, Node prints an
 * unhandled 'error' event with its stack. Errors of stderr itself are ignored: there is nowhere left to report.
 */
export function handleClosedOutput(
  stdout: NodeJS.WritableStream,
  stderr: NodeJS.WritableStream,
  exit: (code: number) => never = (code) => process.exit(code),
): void {
  stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") exit(EXIT_BROKEN_PIPE);
    try {
      stderr.write(
        `kora: error: cannot write to stdout: ${error.code === "ENOSPC" ? "no space left on the device" : error.message} (${error.code ?? "write failed"})\n`,
      );
    } catch {
      // stderr is gone too
    }
    exit(1);
  });
  stderr.on("error", () => undefined);
}
