import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { appRoot } from "../../paths";

/** The built command line the worker processes run (tests that spawn workers need `pnpm build` first). */
export function builtCli(): string {
  const cli = join(appRoot(), "dist", "cli.js");
  if (!existsSync(cli))
    throw new Error(`${cli} is missing: run pnpm --filter kora-repro build before these tests`);
  return cli;
}

/** A child process of a test with its output collected and its end awaited. */
export interface Spawned {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code (or the signal's name), rejecting after `ms`. */
  exited: (ms: number) => Promise<number | string>;
}

/** Starts `node <script> ...args` with output collected. */
export function spawnNode(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Spawned {
  const child = spawn(process.execPath, [script, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    text += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    text += chunk.toString();
  });
  const done = new Promise<number | string>((resolveExit) => {
    child.on("exit", (code, signal) => resolveExit(code ?? signal ?? "?"));
  });
  return {
    child,
    output: () => text,
    exited: (ms) =>
      Promise.race([
        done,
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error(`process did not exit within ${ms} ms:\n${text}`)), ms).unref(),
        ),
      ]),
  };
}
