/** The streams and the environment a command writes to; injected so that output rules live in one place. */
export interface OutputStreams {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

/** Global flags every command accepts. */
export interface GlobalFlags {
  json?: boolean;
  verbose?: boolean;
  color?: boolean;
}

/**
 * Where a command's output goes. Results go to stdout: JSON (one document) with `--json`, text otherwise.
 * Notes, warnings and progress go to stderr, so stdout stays machine-readable.
 */
export interface Output {
  /** `--json` was given: stdout holds exactly one JSON document. */
  readonly json: boolean;
  /** `--verbose` was given. */
  readonly verbose: boolean;
  /** Colours are on for stdout (a TTY, no `NO_COLOR`, no `--no-color`). */
  readonly color: boolean;
  /** The streams (for the progress bar). */
  readonly streams: OutputStreams;
  /** Writes the command's result: `json()` in JSON mode, `text()` otherwise. */
  result(json: () => unknown, text: () => string): void;
  /** Writes a line to stderr (suppressed in JSON mode unless `always`). */
  note(text: string, always?: boolean): void;
  /** Styles text when colours are on. */
  style(kind: StyleKind, text: string): string;
}

/** Text styles the CLI uses. */
export type StyleKind = "bold" | "dim" | "red" | "green" | "yellow" | "cyan";

const CODES: Record<StyleKind, [number, number]> = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
};

/**
 * Whether to colour a stream: `NO_COLOR` (any non-empty value, https://no-color.org) and `--no-color` turn colours
 * off, `FORCE_COLOR` (non-empty, not "0") turns them on, otherwise only on a TTY that is not `TERM=dumb`.
 */
export function colorEnabled(
  stream: { isTTY?: boolean },
  env: NodeJS.ProcessEnv,
  flag: boolean | undefined,
): boolean {
  if (flag === false) return false;
  if (env["NO_COLOR"] !== undefined && env["NO_COLOR"] !== "") return false;
  const force = env["FORCE_COLOR"];
  if (force !== undefined && force !== "" && force !== "0") return true;
  return stream.isTTY === true && env["TERM"] !== "dumb";
}

/** Builds the {@link Output} of one command run. */
export function createOutput(streams: OutputStreams, flags: GlobalFlags): Output {
  const json = flags.json === true;
  const color = !json && colorEnabled(streams.stdout, streams.env, flags.color);
  return {
    json,
    verbose: flags.verbose === true,
    color,
    streams,
    result(toJson, toText) {
      if (json) streams.stdout.write(`${JSON.stringify(toJson(), null, 2)}\n`);
      else {
        const text = toText();
        streams.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
      }
    },
    note(text, always = false) {
      if (!json || always) streams.stderr.write(`${text}\n`);
    },
    style(kind, text) {
      if (!color) return text;
      const [open, close] = CODES[kind];
      return `\u001b[${open}m${text}\u001b[${close}m`;
    },
  };
}
