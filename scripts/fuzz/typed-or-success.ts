// The property every KoRA-TS reader must hold on any input: it returns, or it throws a KoraError whose code the
// package declares — never another exception — and it does so quickly. Checked by marker, not by class, so it
// works for errors of any installed copy of any package (the same test KoraError.isInstance makes).

const MARKER = Symbol.for("kora.error");

/** What one input did: `"ok"` when the reader returned, else the KoraError's code. */
export type Outcome = "ok" | string;

/** Options of {@link expectTypedOrSuccess}. */
export interface TypedOrSuccessOptions {
  /** The codes the reader may throw (e.g. the package's `SPEC_ERROR_CODES`, or the reader's documented few). */
  codes: readonly string[];
  /**
   * Wall-clock bound for one input, in ms. It exists to catch hangs and quadratic blowups, not to time the
   * reader: pick it an order of magnitude above the slowest input seen on a loaded CI machine.
   */
  maxMs: number;
  /** Describes the input in a failure message (default: its length and first bytes). */
  describe?: () => string;
}

function isKoraError(error: unknown): error is Error & { code: string } {
  return (
    typeof error === "object" &&
    error !== null &&
    (error as Record<symbol, unknown>)[MARKER] === true &&
    typeof (error as { code?: unknown }).code === "string"
  );
}

function failure(message: string, cause?: unknown): Error {
  return new Error(message, cause === undefined ? undefined : { cause });
}

/**
 * Runs `read` and throws a descriptive Error unless it returned or threw a KoraError with one of `codes`, within
 * `maxMs`. Returns the outcome, so a suite can also check that its inputs reach both success and failure.
 */
export function expectTypedOrSuccess(read: () => unknown, options: TypedOrSuccessOptions): Outcome {
  const started = performance.now();
  let outcome: Outcome;
  try {
    read();
    outcome = "ok";
  } catch (error) {
    const input = options.describe?.() ?? "";
    if (!isKoraError(error)) throw failure(`untyped ${String(error)} ${input}`, error);
    if (!options.codes.includes(error.code)) {
      throw failure(`undeclared code ${error.code} (${error.message}) ${input}`, error);
    }
    outcome = error.code;
  }
  const elapsed = performance.now() - started;
  if (elapsed > options.maxMs) {
    throw failure(`took ${elapsed.toFixed(0)} ms > ${options.maxMs} ms ${options.describe?.() ?? ""}`);
  }
  return outcome;
}

/** The async twin of {@link expectTypedOrSuccess}, for readers that touch the file system. */
export async function expectTypedOrSuccessAsync(
  read: () => Promise<unknown>,
  options: TypedOrSuccessOptions,
): Promise<Outcome> {
  const started = performance.now();
  let outcome: Outcome;
  try {
    await read();
    outcome = "ok";
  } catch (error) {
    const input = options.describe?.() ?? "";
    if (!isKoraError(error)) throw failure(`untyped ${String(error)} ${input}`, error);
    if (!options.codes.includes(error.code)) {
      throw failure(`undeclared code ${error.code} (${error.message}) ${input}`, error);
    }
    outcome = error.code;
  }
  const elapsed = performance.now() - started;
  if (elapsed > options.maxMs) {
    throw failure(`took ${elapsed.toFixed(0)} ms > ${options.maxMs} ms ${options.describe?.() ?? ""}`);
  }
  return outcome;
}

/** A short rendering of bytes for failure messages: length and the first `limit` bytes in hex. */
export function describeBytes(bytes: Uint8Array, limit = 96): string {
  const head = Array.from(bytes.subarray(0, limit), (b) => b.toString(16).padStart(2, "0")).join("");
  return `(${bytes.length} bytes: ${head}${bytes.length > limit ? "…" : ""})`;
}
