import { spawn } from "node:child_process";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { KoraError } from "@kora/spec";
import { PRESET_NAMES, type PresetName } from "../config/presets";
import type { MainStreams } from "../main";
import { appRoot } from "../paths";
import { connectRedis } from "./connection";
import { enqueuePlan } from "./enqueue";
import { DEFAULT_QUEUE_NAME, runQueueWorker } from "./harness-worker";
import { formatStatus, planStatus } from "./plan-status";
import { queueError } from "./queue-errors";
import { reportQueuedPlan } from "./queue-report";
import { checkQueueName, parseQueueUrl } from "./redis-url";

/** The subcommands that run a plan through a Redis queue. */
export const QUEUE_COMMANDS = ["enqueue", "worker", "status", "report"] as const;

const USAGE = `Usage: kora-repro enqueue --queue redis://HOST[:PORT][/DB] [--preset P] [--only IDS] [--seeds N] [--out DIR]
                         [--data-root DIR] [--weights PATH] [--attempts 3] [--backoff-seconds 10] [--retry-failed]
       kora-repro worker  --queue URL [--concurrency 1] [--backend wasm|tensorflow|cpu] [--out DIR]
                         [--lock-seconds 30] [--until-empty]
       kora-repro status  --queue URL
       kora-repro report  --queue URL [--out DIR]
Every command takes --queue-name NAME (default ${DEFAULT_QUEUE_NAME}): one plan per queue name.
  enqueue       puts every planned run on the queue (job id = run key: enqueueing again adds only what is missing)
  worker        takes jobs until stopped (SIGINT/SIGTERM finish the current run first); --concurrency N starts N
                worker processes with one wasm thread each; --out is this machine's path of the results folder;
                --until-empty stops when nothing is left to do
  status        done / running / failed / waiting, workers and ETA
  report        writes report.md / report.html once every run is done or failed; prints their paths`;

const COMMON = {
  queue: { type: "string" },
  "queue-name": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

const OPTIONS = {
  enqueue: {
    ...COMMON,
    preset: { type: "string" },
    only: { type: "string" },
    seeds: { type: "string" },
    out: { type: "string" },
    "data-root": { type: "string" },
    weights: { type: "string" },
    attempts: { type: "string" },
    "backoff-seconds": { type: "string" },
    "retry-failed": { type: "boolean" },
  },
  worker: {
    ...COMMON,
    concurrency: { type: "string" },
    backend: { type: "string" },
    out: { type: "string" },
    "lock-seconds": { type: "string" },
    "until-empty": { type: "boolean" },
  },
  status: { ...COMMON },
  report: { ...COMMON, out: { type: "string" } },
} as const;

type Values = Record<string, string | boolean | undefined>;

/** A number flag, checked; `undefined` when absent. */
function numberFlag(
  values: Values,
  name: string,
  check: (n: number) => boolean,
  expected: string,
): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (String(raw).trim() === "" || !check(value)) {
    throw queueError("INVALID_ARGUMENT", `--${name} must be ${expected}, got "${String(raw)}"`, `--${name}`);
  }
  return value;
}

const str = (values: Values, name: string) => (values[name] === undefined ? undefined : String(values[name]));

/**
 * `kora-repro enqueue|worker|status|report …`; returns the exit code (0 ok, 1 a failure or an incomplete plan,
 * 2 bad usage). Errors are one line each, never a stack.
 */
export async function queueMain(
  command: (typeof QUEUE_COMMANDS)[number],
  argv: readonly string[],
  streams: MainStreams,
): Promise<number> {
  let values: Values;
  try {
    values = parseArgs({ args: [...argv], options: OPTIONS[command], strict: true, allowPositionals: false })
      .values as Values;
  } catch (error) {
    streams.stderr(`kora-repro ${command}: ${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (values["help"]) {
    streams.stdout(`${USAGE}\n`);
    return 0;
  }
  try {
    if (values["queue"] === undefined) {
      throw queueError(
        "INVALID_ARGUMENT",
        "--queue is required: the Redis URL, redis://host[:port][/db]",
        "--queue",
      );
    }
    const queue = String(values["queue"]);
    const address = parseQueueUrl(queue);
    const queueName = checkQueueName(str(values, "queue-name") ?? DEFAULT_QUEUE_NAME);
    switch (command) {
      case "enqueue":
        return await enqueueCommand(values, queue, queueName, streams);
      case "worker":
        return await workerCommand(values, queue, queueName, streams);
      case "status": {
        const { client } = await connectRedis(address);
        try {
          streams.stdout(`${formatStatus(await planStatus(client, address, queueName), address.display)}\n`);
          return 0;
        } finally {
          client.disconnect();
        }
      }
      case "report": {
        const { client } = await connectRedis(address);
        try {
          const report = await reportQueuedPlan(client, address, queueName, {
            out: str(values, "out"),
            log: (line) => streams.stderr(`${line}\n`),
          });
          streams.stderr(`kora-repro: ${formatStatus(report.status, address.display)}\n`);
          streams.stdout(`${report.markdown}\n${report.html}\n`);
          return report.status.failed > 0 ? 1 : 0;
        } finally {
          client.disconnect();
        }
      }
    }
  } catch (error) {
    const code = KoraError.isInstance(error) ? error.code : null;
    streams.stderr(`kora-repro ${command}: ${(error as Error)?.message ?? String(error)}\n`);
    return code === "INVALID_ARGUMENT" ? 2 : 1;
  }
}

async function enqueueCommand(
  values: Values,
  queue: string,
  queueName: string,
  streams: MainStreams,
): Promise<number> {
  const preset = str(values, "preset") ?? "default";
  if (!(PRESET_NAMES as readonly string[]).includes(preset)) {
    throw queueError(
      "INVALID_ARGUMENT",
      `--preset must be one of ${PRESET_NAMES.join(", ")}, got "${preset}"`,
      "--preset",
    );
  }
  const only = str(values, "only")
    ?.split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const summary = await enqueuePlan({
    queue,
    queueName,
    preset: preset as PresetName,
    only: only ?? null,
    seeds: numberFlag(values, "seeds", (n) => Number.isInteger(n) && n >= 1, "a positive integer"),
    out: str(values, "out"),
    dataRoot: str(values, "data-root"),
    weights: str(values, "weights"),
    attempts: numberFlag(
      values,
      "attempts",
      (n) => Number.isInteger(n) && n >= 1 && n <= 100,
      "an integer from 1 to 100",
    ),
    backoffMs: (() => {
      const seconds = numberFlag(
        values,
        "backoff-seconds",
        (n) => Number.isFinite(n) && n >= 0,
        "a number ≥ 0",
      );
      return seconds === undefined ? undefined : seconds * 1000;
    })(),
    retryFailed: values["retry-failed"] === true,
    write: streams.stderr,
  });
  streams.stdout(
    `enqueued ${summary.added} of ${summary.total} runs on queue ${summary.queueName} (${summary.existing} already there${summary.retried > 0 ? `, ${summary.retried} failed put back` : ""})\n`,
  );
  return 0;
}

async function workerCommand(
  values: Values,
  queue: string,
  queueName: string,
  streams: MainStreams,
): Promise<number> {
  const concurrency =
    numberFlag(
      values,
      "concurrency",
      (n) => Number.isInteger(n) && n >= 1 && n <= 64,
      "an integer from 1 to 64",
    ) ?? 1;
  const lockSeconds = numberFlag(
    values,
    "lock-seconds",
    (n) => n >= 1 && n <= 3600,
    "a number of seconds from 1 to 3600",
  );
  const backend = str(values, "backend");
  if (backend !== undefined && !["wasm", "tensorflow", "cpu"].includes(backend)) {
    throw queueError(
      "INVALID_ARGUMENT",
      `--backend must be one of wasm, tensorflow, cpu, got "${backend}"`,
      "--backend",
    );
  }
  if (concurrency > 1) {
    const passed = ["--queue", queue, "--queue-name", queueName];
    for (const name of ["out", "backend", "lock-seconds"]) {
      const value = str(values, name);
      if (value !== undefined) passed.push(`--${name}`, value);
    }
    if (values["until-empty"] === true) passed.push("--until-empty");
    return workerProcesses(concurrency, passed, streams);
  }
  const controller = new AbortController();
  const stop = () => {
    streams.stderr("kora-repro worker: stopping after the current run\n");
    controller.abort();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    const summary = await runQueueWorker({
      queue,
      queueName,
      out: str(values, "out"),
      backend,
      lockSeconds,
      untilEmpty: values["until-empty"] === true,
      signal: controller.signal,
      write: streams.stderr,
    });
    streams.stderr(`kora-repro worker: ${summary.completed} job(s) done, ${summary.failed} failed\n`);
    return 0;
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}

/**
 * `--concurrency N`: N worker processes, one wasm thread each (tfjs has one backend per process, so runs in one
 * process would only take turns); signals are passed on, and the exit code is the worst child's.
 */
async function workerProcesses(count: number, args: string[], streams: MainStreams): Promise<number> {
  const cli = join(appRoot(), "dist", "cli.js");
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, [cli, "worker", ...args], {
      env: { ...process.env, KORA_WASM_THREADS: "1" },
      stdio: ["ignore", "inherit", "pipe"],
    }),
  );
  const forward = (signal: NodeJS.Signals) => () => {
    for (const child of children) child.kill(signal);
  };
  const onInt = forward("SIGINT");
  const onTerm = forward("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  try {
    const codes = await Promise.all(
      children.map(
        (child) =>
          new Promise<number>((done) => {
            child.stderr?.on("data", (chunk: Buffer) => streams.stderr(chunk.toString()));
            child.on("close", (code) => done(code ?? 1));
            child.on("error", () => done(1));
          }),
      ),
    );
    return Math.max(...codes);
  } finally {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
  }
}
