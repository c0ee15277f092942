import { join } from "node:path";
import type { Redis } from "ioredis";
import { defaultExperimentsDir } from "../config/experiments";
import { planRuns } from "../plan";
import { selectPlan } from "../plan-selection";
import { writeReport } from "../report/write";
import { gitState, type RunResult, resultProblem } from "../results";
import { FolderStore } from "../store/folder-store";
import { ensureBackbone } from "../tasks/backbone";
import { type PlanStatus, planStatus } from "./plan-status";
import { queueError } from "./queue-errors";
import type { QueueAddress } from "./redis-url";

/**
 * Builds report.md / report.html from a queued plan once every run is done or failed: the local mode's report, from
 * the same results. A run whose job failed without leaving a result (it stalled too often) is recorded as failed
 * first, so the report lists it.
 *
 * @throws KoraError `PLAN_INCOMPLETE` while runs are waiting or running.
 */
export async function reportQueuedPlan(
  client: Redis,
  address: QueueAddress,
  queueName: string,
  options: {
    out?: string | undefined;
    experimentsDir?: string | undefined;
    log?: (line: string) => void;
  } = {},
): Promise<{ markdown: string; html: string; status: PlanStatus }> {
  const status = await planStatus(client, address, queueName);
  if (status.waiting + status.running > 0) {
    throw queueError(
      "PLAN_INCOMPLETE",
      `the plan is not complete: ${status.done} done, ${status.running} running, ${status.waiting} waiting, ${status.failed} failed; watch it with kora-repro status`,
    );
  }
  const { plan } = status;
  const preset = plan.preset;
  // Damaged result or feature files are never passed over silently: without a log, their warnings go to stderr.
  const warn = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const store = new FolderStore<RunResult>(options.out ?? plan.out, { check: resultProblem, warn });
  const { experiments, seeds } = selectPlan(preset, {
    only: plan.only,
    seeds: plan.seeds,
    experimentsDir: options.experimentsDir ?? defaultExperimentsDir(),
  });
  const runs = planRuns(preset, experiments, seeds);
  for (const failure of status.failures) {
    if (store.read(failure.key) !== null) continue;
    const run = runs.find((r) => r.key === failure.key);
    const claim = run === undefined ? null : store.claim(failure.key, "report");
    if (run === undefined || claim === null) continue;
    const now = new Date().toISOString();
    store.commit(claim, {
      format: 1,
      key: run.key,
      name: run.name,
      status: "failed",
      task: run.task,
      method: run.method,
      seed: run.seed,
      shuffleLabels: run.shuffleLabels,
      sourceKey: run.sourceKey,
      usedBy: run.usedBy,
      preset: { name: preset.name, config: { ...preset } },
      git: gitState(),
      backend: "none",
      node: process.version,
      startedAt: now,
      finishedAt: now,
      timings: { totalSeconds: 0, trainSeconds: 0, evalSeconds: 0 },
      metrics: {},
      curve: [],
      extra: {},
      error: { message: `its job failed in the queue: ${failure.reason}`, code: "JOB_FAILED", stack: null },
    });
    claim.release();
  }
  const results = [...store.readAll().values()].filter((r) => plan.runs.includes(r.key));
  const log = options.log ?? (() => {});
  const backbone = await ensureBackbone({
    preset,
    out: store.root,
    cacheDir: join(store.root, "cache"),
    onProgress: () => {},
    log,
  });
  // The plan's wall time: from its first run's start to its last run's end, whichever workers ran them.
  const starts = results.map((r) => Date.parse(r.startedAt)).filter(Number.isFinite);
  const ends = results.map((r) => Date.parse(r.finishedAt)).filter(Number.isFinite);
  const wallSeconds = starts.length === 0 ? 0 : (Math.max(...ends) - Math.min(...starts)) / 1000;
  const ok = results.filter((r) => r.status === "ok");
  const report = await writeReport({
    out: store.root,
    preset,
    experiments,
    runs,
    seeds,
    backbone,
    backend: ok[0]?.backend ?? "none",
    wallSeconds,
    counts: { ran: ok.length, skipped: 0, failed: results.length - ok.length },
    log: warn,
  });
  return { ...report, status };
}
