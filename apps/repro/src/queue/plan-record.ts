import type { Redis } from "ioredis";
import type { Preset } from "../config/presets";
import { queueError } from "./queue-errors";

/**
 * What `enqueue` records beside the jobs, so that workers, `status` and `report` need only the queue: the resolved
 * preset (every worker runs exactly the configuration the plan was made with, whatever its own checkout would
 * resolve), the selection, the run keys in plan order, and the results folder.
 */
export interface PlanRecord {
  format: 1;
  queue: string;
  preset: Preset;
  only: string[] | null;
  seeds: number;
  /** Results folder as the enqueuing machine sees it (workers may mount it elsewhere: `worker --out`). */
  out: string;
  /** Run keys, in plan order: the jobs' ids. */
  runs: string[];
  enqueuedAt: string;
}

/** Redis key of a queue's plan record (beside BullMQ's own `bull:<queue>:*` keys). */
export function planRecordKey(queue: string): string {
  return `kora-repro:plan:${queue}`;
}

/** The plan on `queue`, or null when nothing was enqueued there. */
export async function readPlanRecord(client: Redis, queue: string): Promise<PlanRecord | null> {
  const text = await client.get(planRecordKey(queue));
  return text === null ? null : (JSON.parse(text) as PlanRecord);
}

/** Like {@link readPlanRecord}, but a missing plan is an error naming the queue. */
export async function requirePlanRecord(client: Redis, queue: string, display: string): Promise<PlanRecord> {
  const plan = await readPlanRecord(client, queue);
  if (plan === null) {
    throw queueError(
      "PLAN_NOT_FOUND",
      `no plan was enqueued on queue "${queue}" at ${display}; run kora-repro enqueue --preset P --queue URL first`,
      "--queue-name",
    );
  }
  return plan;
}

/**
 * Records the plan unless one is there. Enqueueing the same plan again (same preset, seeds, runs and folder) is
 * allowed and changes nothing; another plan on the same queue would mix two plans' jobs and is refused.
 *
 * @returns whether the plan was new.
 * @throws KoraError `PLAN_MISMATCH` naming what differs.
 */
export async function storePlanRecord(client: Redis, plan: PlanRecord): Promise<boolean> {
  const created = await client.set(planRecordKey(plan.queue), JSON.stringify(plan), "NX");
  if (created === "OK") return true;
  const existing = await readPlanRecord(client, plan.queue);
  if (existing === null) return storePlanRecord(client, plan);
  const differs: string[] = [];
  if (JSON.stringify(existing.preset) !== JSON.stringify(plan.preset)) {
    differs.push(`preset ${existing.preset.name} → ${plan.preset.name}`);
  }
  if (existing.out !== plan.out) differs.push(`--out ${existing.out} → ${plan.out}`);
  if (existing.runs.join(",") !== plan.runs.join(",")) {
    differs.push(`runs (${existing.runs.length} → ${plan.runs.length}; --only or --seeds changed)`);
  }
  if (differs.length > 0) {
    throw queueError(
      "PLAN_MISMATCH",
      `queue "${plan.queue}" holds another plan (${differs.join("; ")}); give this plan its own --queue-name`,
      "--queue-name",
    );
  }
  return false;
}
