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

/** Exit codes of every command. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;
