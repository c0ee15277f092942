import { spawnSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** The built binary the tests spawn. */
export const CLI = resolve(here, "../../dist/cli.js");

/** What a run of the CLI produced. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node dist/cli.js ...args` without a terminal (so no colours and no progress bar unless `env` asks) and
 * returns its exit code and output.
 */
export function runCli(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): CliResult {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  if (options.env?.["FORCE_COLOR"] === undefined) delete env["FORCE_COLOR"];
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    env,
    cwd: options.cwd ?? here,
    timeout: 30_000,
  });
  if (result.error !== undefined) throw result.error;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The built program module (`main(argv, streams)`), for in-process runs. */
export const PROGRAM = resolve(here, "../../dist/program.js");

class Capture extends Writable {
  text = "";
  constructor(readonly isTTY: boolean) {
    super();
  }
  override _write(chunk: unknown, _encoding: BufferEncoding, callback: () => void): void {
    this.text += String(chunk);
    callback();
  }
}

/**
 * Runs the BUILT program (`dist/program.js`) in this process with captured, non-terminal streams: the same code
 * as the binary without the cost of a new Node process per case. `env` replaces the environment entirely.
 */
export async function runKora(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  const { main } = (await import(pathToFileURL(PROGRAM).href)) as typeof import("../program");
  const stdout = new Capture(false);
  const stderr = new Capture(false);
  const code = await main(args, { stdout, stderr, env: options.env ?? {} });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** A fixture file under the repository's `fixtures/` folder, e.g. `fixture("cka", "basic.safetensors")`. */
export { fixturePath as fixture } from "../../../../fixtures/fixtures";
