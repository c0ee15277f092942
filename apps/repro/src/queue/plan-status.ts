import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { formatDuration } from "../progress";
import { bullConnection } from "./connection";
import { type PlanRecord, requirePlanRecord } from "./plan-record";
import type { QueueAddress } from "./redis-url";

/** Where a queued plan stands. */
export interface PlanStatus {
  plan: PlanRecord;
  total: number;
  done: number;
  running: number;
  failed: number;
  /** Waiting for a worker, for a retry's backoff, or for their source run. */
  waiting: number;
  /** Workers connected to the queue now. */
  workers: number;
  /** Mean seconds a completed job took (null before the first). */
  meanJobSeconds: number | null;
  /** Seconds until the plan is done at the current pace (null before the first job completed, 0 when done). */
  etaSeconds: number | null;
  /** The failed runs, with BullMQ's reason. */
  failures: { key: string; reason: string }[];
}

/** Reads the plan's jobs from the queue and counts them (done, running, failed, waiting) with an ETA. */
export async function planStatus(
  client: Redis,
  address: QueueAddress,
  queueName: string,
): Promise<PlanStatus> {
  const plan = await requirePlanRecord(client, queueName, address.display);
  const queue = new Queue(queueName, { connection: bullConnection(address) });
  try {
    let done = 0;
    let running = 0;
    let failed = 0;
    let waiting = 0;
    let jobSeconds = 0;
    const failures: PlanStatus["failures"] = [];
    for (const key of plan.runs) {
      const job = await queue.getJob(key);
      const state = job === undefined ? "unknown" : await job.getState();
      if (state === "completed") {
        done++;
        if (job?.finishedOn !== undefined && job.processedOn !== undefined) {
          jobSeconds += (job.finishedOn - job.processedOn) / 1000;
        }
      } else if (state === "active") running++;
      else if (state === "failed") {
        failed++;
        failures.push({ key, reason: job?.failedReason ?? "?" });
      } else waiting++;
    }
    const workers = (await queue.getWorkers()).length;
    const meanJobSeconds = done > 0 ? jobSeconds / done : null;
    const left = waiting + running;
    const etaSeconds =
      left === 0
        ? 0
        : meanJobSeconds === null
          ? null
          : (meanJobSeconds * (waiting + running / 2)) / Math.max(1, workers);
    return {
      plan,
      total: plan.runs.length,
      done,
      running,
      failed,
      waiting,
      workers,
      meanJobSeconds,
      etaSeconds,
      failures,
    };
  } finally {
    await queue.close();
  }
}

/** The status as `kora-repro status` prints it. */
export function formatStatus(status: PlanStatus, display: string): string {
  const { plan } = status;
  const eta =
    status.etaSeconds === null
      ? "ETA unknown until a run completes"
      : `ETA ${formatDuration(status.etaSeconds)}`;
  const lines = [
    `plan: preset ${plan.preset.name}, ${plan.seeds} seed(s), ${status.total} runs, queue ${plan.queue} at ${display}, results in ${plan.out}`,
    `done ${status.done} · running ${status.running} · failed ${status.failed} · waiting ${status.waiting} · workers ${status.workers} · ${status.running + status.waiting === 0 ? "complete" : eta}`,
  ];
  for (const failure of status.failures.slice(0, 20))
    lines.push(`failed: ${failure.key}: ${failure.reason.split("\n")[0]}`);
  if (status.failures.length > 20) lines.push(`failed: … and ${status.failures.length - 20} more`);
  return lines.join("\n");
}
