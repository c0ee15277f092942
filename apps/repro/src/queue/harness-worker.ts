import { hostname } from "node:os";
import { join } from "node:path";
import { selectBackend } from "@kora/tfjs";
import { type Job, Queue } from "bullmq";
import { executeRun } from "../execute-run";
import type { PlannedRun } from "../plan";
import { type RunResult, resultProblem } from "../results";
import { FolderStore } from "../store/folder-store";
import { type BackboneInfo, ensureBackbone } from "../tasks/backbone";
import type { TaskContext } from "../tasks/context";
import { bullConnection, connectRedis, redisWarnings } from "./connection";
import { type ConsumeSummary, consumeQueue, type Readiness } from "./consume";
import { requirePlanRecord } from "./plan-record";
import { queueError } from "./queue-errors";
import { checkQueueName, parseQueueUrl } from "./redis-url";

/** The data of a plan's job: the run, exactly as the enqueuing process planned it. */
export interface RunJobData {
  run: PlannedRun;
}

/** Options of {@link runQueueWorker} (`kora-repro worker`'s flags). */
export interface QueueWorkerOptions {
  /** `redis://host:port/db`. */
  queue: string;
  /** Queue name (default `kora-repro`). */
  queueName?: string | undefined;
  /** This machine's path of the plan's results folder (default: the path the plan was enqueued with). */
  out?: string | undefined;
  /** tfjs backend (default `wasm`, as the local mode; `tensorflow` for tfjs-node / tfjs-node-gpu). */
  backend?: string | undefined;
  /** Seconds a job's lock lasts without renewal, and a run's claim in the store (default 30). */
  lockSeconds?: number | undefined;
  /** Stop when the queue has nothing left to do (default: run until stopped). */
  untilEmpty?: boolean | undefined;
  /** Stops the worker after its current job. */
  signal?: AbortSignal | undefined;
  /** Log lines (default: stderr). */
  write?: ((text: string) => void) | undefined;
}

/** The default queue name. */
export const DEFAULT_QUEUE_NAME = "kora-repro";

const BACKBONE_WAIT_MS = 30 * 60_000;

/**
 * A worker of a queued plan: reads the plan the queue holds, prepares the backbone once per results folder (one
 * worker pretrains, the others wait for it), then runs jobs one at a time with the local mode's code until stopped
 * (or, with `untilEmpty`, until the queue is empty). A transfer or CKA job waits in the queue until its source run's
 * result is in the store.
 *
 * @throws KoraError `INVALID_ARGUMENT`, `QUEUE_UNREACHABLE` or `PLAN_NOT_FOUND` before taking any job.
 */
export async function runQueueWorker(options: QueueWorkerOptions): Promise<ConsumeSummary> {
  const write = options.write ?? ((text: string) => process.stderr.write(text));
  const owner = `${hostname()}:${process.pid}`;
  const log = (line: string) => write(`[worker ${owner}] ${line}\n`);
  const address = parseQueueUrl(options.queue);
  const queueName = checkQueueName(options.queueName ?? DEFAULT_QUEUE_NAME);
  const lockSeconds = options.lockSeconds ?? 30;
  if (!(lockSeconds >= 1 && lockSeconds <= 3600)) {
    throw queueError(
      "INVALID_ARGUMENT",
      `--lock-seconds must be from 1 to 3600, got ${lockSeconds}`,
      "--lock-seconds",
    );
  }
  const { client, facts } = await connectRedis(address);
  let plan: Awaited<ReturnType<typeof requirePlanRecord>>;
  try {
    for (const warning of redisWarnings(facts)) log(`warning: ${warning}`);
    plan = await requirePlanRecord(client, queueName, address.display);
  } finally {
    client.disconnect();
  }
  const store = new FolderStore<RunResult>(options.out ?? plan.out, {
    leaseMs: lockSeconds * 1000,
    check: resultProblem,
    warn: log,
  });
  const preset = plan.preset;
  const backend = await selectBackend({
    prefer: (options.backend ?? "wasm") as "wasm",
    log,
    ...(preset.threads === undefined ? {} : { threads: preset.threads }),
  });
  const context: TaskContext = {
    preset,
    out: store.root,
    cacheDir: join(store.root, "cache"),
    onProgress: () => {},
    log,
  };
  log(
    `plan ${preset.name} (${plan.runs.length} runs) on ${address.display} queue ${queueName}; results in ${store.root}`,
  );
  const backbone = await backboneOnce(context, store, owner, log);
  const connection = bullConnection(address);
  const queue = new Queue(queueName, { connection });
  try {
    return await consumeQueue<RunJobData, RunResult>({
      connection,
      queue: queueName,
      store,
      owner,
      lockMs: lockSeconds * 1000,
      untilEmpty: options.untilEmpty ?? false,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      log,
      ready: (job) => sourceReadiness(job, store, queue),
      run: async (job) => {
        const run = job.data.run;
        log(`${run.key}: ${run.name} (attempt ${job.attemptsMade + 1}/${job.opts.attempts ?? 1})`);
        const source = run.sourceKey === null ? null : store.read(run.sourceKey);
        return executeRun(context, backbone, run, source, backend);
      },
      // A run whose source failed fails the same way every time.
      retryable: (result) => result.error?.code !== "SOURCE_FAILED",
    });
  } finally {
    await queue.close();
  }
}

/** Whether a job's source run is complete (or failed: then the job runs and records SOURCE_FAILED). */
async function sourceReadiness(
  job: Job<RunJobData>,
  store: FolderStore<RunResult>,
  queue: Queue,
): Promise<Readiness> {
  const sourceKey = job.data.run.sourceKey;
  if (sourceKey === null || store.read(sourceKey) !== null) return { kind: "ready" };
  const state = await queue.getJobState(sourceKey);
  if (state === "unknown") {
    return {
      kind: "impossible",
      reason: `SOURCE_MISSING: its source run ${sourceKey} has no job and no result`,
    };
  }
  if (state === "failed") {
    return {
      kind: "impossible",
      reason: `SOURCE_FAILED: its source run ${sourceKey} failed without a result`,
    };
  }
  return { kind: "wait", reason: `its source run ${sourceKey} is ${state}` };
}

/**
 * The plan's backbone, pretrained by one worker per results folder: the others wait (polling, at most 30 minutes)
 * for its cache entry, which `ensureBackbone` then finds complete.
 */
async function backboneOnce(
  context: TaskContext,
  store: FolderStore<RunResult>,
  owner: string,
  log: (line: string) => void,
): Promise<BackboneInfo> {
  const deadline = Date.now() + BACKBONE_WAIT_MS;
  for (let look = 0; Date.now() < deadline; look++) {
    const claim = store.claim("backbone", owner);
    if (claim !== null) {
      try {
        return await ensureBackbone(context);
      } finally {
        claim.release();
      }
    }
    if (look === 0) log("backbone: another worker is preparing it; waiting");
    await new Promise((done) => setTimeout(done, 500));
  }
  throw queueError("STORE_BUSY", `backbone: another worker held it for ${BACKBONE_WAIT_MS / 60_000} minutes`);
}
