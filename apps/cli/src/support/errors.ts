/**
 * Bad usage of the command line (exit code 2): a flag with a value the command cannot use, a missing or
 * conflicting flag. The message names the flag. Everything else a command throws is a failure (exit code 1).
 */
export class UsageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "UsageError";
  }
}

/** Exit codes of every command (130: a training run stopped by Ctrl-C after saving a checkpoint). */
export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;

/**
 * A run stopped by Ctrl-C (SIGINT) after saving its state: exit code 130 (128 + SIGINT, as shells report it), with
 * a one-line message saying how to continue.
 */
export class InterruptedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InterruptedError";
  }
}
