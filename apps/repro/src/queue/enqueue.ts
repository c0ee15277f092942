import { resolve } from "node:path";
import { Queue } from "bullmq";
import { type Preset, type PresetName, resolvePreset } from "../config/presets";
import { planRuns } from "../plan";
import { selectPlan } from "../plan-selection";
import type { RunResult } from "../results";
import { FolderStore } from "../store/folder-store";
import { bullConnection, connectRedis, redisWarnings } from "./connection";
import { DEFAULT_QUEUE_NAME, type RunJobData } from "./harness-worker";
import { type PlanRecord, storePlanRecord } from "./plan-record";
import { queueError } from "./queue-errors";
import { checkQueueName, parseQueueUrl } from "./redis-url";

/** Options of {@link enqueuePlan} (`kora-repro enqueue`'s flags). */
export interface EnqueueOptions {
  /** `redis://host:port/db`. */
  queue: string;
  queueName?: string | undefined;
  /** A preset name, or a resolved preset (tests and scripts that vary one). */
  preset?: PresetName | Preset | undefined;
  only?: string[] | null | undefined;
  seeds?: number | undefined;
  /** Results folder every worker reaches (default `repro-results/<preset>`). */
  out?: string | undefined;
  dataRoot?: string | undefined;
  weights?: string | undefined;
  experimentsDir?: string | undefined;
  /** Tries per run before it is recorded as failed (default 3). */
  attempts?: number | undefined;
  /** First retry delay in milliseconds, doubling each retry (default 10 000). */
  backoffMs?: number | undefined;
  /** Puts the plan's failed runs back on the queue (their failed results are removed). */
  retryFailed?: boolean | undefined;
  write?: ((text: string) => void) | undefined;
}

/** What {@link enqueuePlan} did. */
export interface EnqueueSummary {
  queueName: string;
  total: number;
  /** Jobs put on the queue now. */
  added: number;
  /** Jobs the queue already had (waiting, running, complete or failed): left as they are. */
  existing: number;
  /** Failed jobs put back (with `retryFailed`). */
  retried: number;
}

/**
 * Puts every run of a plan on the queue, job id = run key: enqueueing again adds only what is missing, so a
 * completed run is never redone and a running one never doubled. The plan itself is recorded beside the jobs.
 *
 * @throws KoraError `INVALID_ARGUMENT` (a flag), `QUEUE_UNREACHABLE`, `PLAN_MISMATCH` (another plan is on the queue).
 */
export async function enqueuePlan(options: EnqueueOptions): Promise<EnqueueSummary> {
  const write = options.write ?? ((text: string) => process.stderr.write(text));
  const address = parseQueueUrl(options.queue);
  const queueName = checkQueueName(options.queueName ?? DEFAULT_QUEUE_NAME);
  const attempts = options.attempts ?? 3;
  if (!(Number.isInteger(attempts) && attempts >= 1 && attempts <= 100)) {
    throw queueError(
      "INVALID_ARGUMENT",
      `--attempts must be an integer from 1 to 100, got ${attempts}`,
      "--attempts",
    );
  }
  const backoffMs = options.backoffMs ?? 10_000;
  if (!(Number.isFinite(backoffMs) && backoffMs >= 0)) {
    throw queueError(
      "INVALID_ARGUMENT",
      `--backoff-seconds must be ≥ 0, got ${backoffMs / 1000}`,
      "--backoff-seconds",
    );
  }
  const preset =
    typeof options.preset === "object"
      ? options.preset
      : resolvePreset(options.preset ?? "default", {
          ...(options.dataRoot === undefined ? {} : { dataRoot: options.dataRoot }),
          ...(options.weights === undefined ? {} : { weights: options.weights }),
        });
  const { experiments, seeds } = selectPlan(preset, options);
  const runs = planRuns(preset, experiments, seeds);
  const out = resolve(options.out ?? `repro-results/${preset.name}`);
  const store = new FolderStore<RunResult>(out);
  const { client, facts } = await connectRedis(address);
  const queue = new Queue<RunJobData>(queueName, { connection: bullConnection(address) });
  try {
    for (const warning of redisWarnings(facts)) write(`kora-repro: warning: ${warning}\n`);
    const record: PlanRecord = {
      format: 1,
      queue: queueName,
      preset,
      only: options.only ?? null,
      seeds: seeds.length,
      out,
      runs: runs.map((run) => run.key),
      enqueuedAt: new Date().toISOString(),
    };
    await storePlanRecord(client, record);
    const states = await Promise.all(runs.map((run) => queue.getJobState(run.key)));
    const missing = runs.filter((_, index) => states[index] === "unknown");
    // Plan order (sources first) is queue order: dependents then mostly find their source complete.
    await queue.addBulk(
      missing.map((run) => ({
        name: run.task,
        data: { run },
        opts: {
          jobId: run.key,
          attempts,
          backoff: { type: "exponential", delay: backoffMs },
          // Finished jobs stay: their ids keep re-enqueueing idempotent and `status` counts them.
          removeOnComplete: false,
          removeOnFail: false,
        },
      })),
    );
    let retried = 0;
    if (options.retryFailed === true) {
      for (const [index, run] of runs.entries()) {
        if (states[index] !== "failed") continue;
        const job = await queue.getJob(run.key);
        if (job === undefined) continue;
        store.remove(run.key);
        await job.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true });
        retried++;
      }
    }
    return {
      queueName,
      total: runs.length,
      added: missing.length,
      existing: runs.length - missing.length,
      retried,
    };
  } finally {
    await queue.close();
    client.disconnect();
  }
}
