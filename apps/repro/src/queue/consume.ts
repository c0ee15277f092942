import { DelayedError, type Job, Queue, UnrecoverableError, Worker } from "bullmq";
import type { RedisOptions } from "ioredis";
import type { CommitOutcome, ResultsStore, RunClaim, StoredResult } from "../store/results-store";

/** What a job's data carries besides the caller's: how often it was put back to wait for something. */
export interface DeferrableData {
  deferrals?: number;
}

/** What a job needs before it can run, as {@link ConsumeOptions.ready} answers. */
export type Readiness =
  | { kind: "ready" }
  /** Not yet (its source run is still running): the job goes back to the queue for a while. */
  | { kind: "wait"; reason: string }
  /** Never (its source run's job is gone): the job fails without retries. */
  | { kind: "impossible"; reason: string };

/** Options of {@link consumeQueue}. */
export interface ConsumeOptions<D, R extends StoredResult> {
  connection: RedisOptions;
  queue: string;
  /** The results store every worker shares. */
  store: ResultsStore<R>;
  /** This worker's id in claims and job results (default `host:pid`). */
  owner: string;
  /** Jobs at once in this process (default 1). */
  concurrency?: number;
  /**
   * Milliseconds a job's lock lasts without renewal (default 30 000): a worker that stops renewing (killed, frozen)
   * has its job found stalled and retried elsewhere after about this long. Keep it above the longest stretch the
   * process's event loop may be blocked (one training step).
   */
  lockMs?: number;
  /** How often a job may be found stalled before it fails (default 2). */
  maxStalled?: number;
  /** Times a job may be put back to wait for its prerequisites (default 10 000) before it fails. */
  maxDeferrals?: number;
  /** Stop once the queue has nothing left to do (waiting, delayed, active); otherwise run until `signal`. */
  untilEmpty?: boolean;
  /** Closes the worker (after its current job). */
  signal?: AbortSignal;
  /** Whether the job can run now (default: always). */
  ready?: (job: Job<D & DeferrableData>) => Promise<Readiness>;
  /**
   * Runs the job and returns its result: `ok`, or `failed` for a run that failed (retried with backoff while the
   * job has attempts left, committed as failed on its last). Throwing is an infrastructure failure: retried too.
   */
  run: (job: Job<D & DeferrableData>, claim: RunClaim) => Promise<R>;
  /** Whether a failed result is worth retrying (default: yes; a deterministic refusal is not). */
  retryable?: (result: R) => boolean;
  log?: (line: string) => void;
}

/** A job's return value, as BullMQ stores it. */
export interface JobOutcome {
  key: string;
  outcome: CommitOutcome | "already-complete";
  worker: string;
}

/** What {@link consumeQueue} did, once it stopped. */
export interface ConsumeSummary {
  completed: number;
  failed: number;
}

/**
 * Takes jobs (id = run key) from a BullMQ queue until stopped, and writes each run's result to the store exactly
 * once: a run whose result is complete is not run again; a run is claimed in the store before it runs, so a job
 * found stalled while its first worker still lives does not run twice at once; a failing run is retried with the
 * job's backoff and committed as failed after its last attempt.
 */
export async function consumeQueue<D, R extends StoredResult>(
  options: ConsumeOptions<D, R>,
): Promise<ConsumeSummary> {
  const { store, owner } = options;
  const log = options.log ?? (() => {});
  const lockMs = options.lockMs ?? 30_000;
  const maxDeferrals = options.maxDeferrals ?? 10_000;
  const summary: ConsumeSummary = { completed: 0, failed: 0 };

  const defer = async (job: Job<D & DeferrableData>, token: string | undefined, reason: string) => {
    const deferrals = (job.data.deferrals ?? 0) + 1;
    if (deferrals > maxDeferrals) {
      throw new UnrecoverableError(`gave up after waiting ${maxDeferrals} times: ${reason}`);
    }
    await job.updateData({ ...job.data, deferrals });
    // Waiting doubles up to 5 s: a dependent finds its source soon after it completes, without polling Redis hard.
    const delay = Math.min(5000, 100 * 2 ** Math.min(6, deferrals));
    await job.moveToDelayed(Date.now() + delay, token);
    throw new DelayedError(reason);
  };

  const processor = async (job: Job<D & DeferrableData>, token?: string): Promise<JobOutcome> => {
    const key = job.id as string;
    if (store.read(key)?.status === "ok") return { key, outcome: "already-complete", worker: owner };
    const readiness = (await options.ready?.(job)) ?? { kind: "ready" };
    if (readiness.kind === "impossible") throw new UnrecoverableError(readiness.reason);
    if (readiness.kind === "wait") return defer(job, token, readiness.reason);
    const claim = store.claim(key, owner);
    if (claim === null) return defer(job, token, `another worker holds ${key}`);
    try {
      // A failed result from an earlier plan is replaced: the job runs again because it was retried on purpose.
      if (store.read(key)?.status === "failed") store.remove(key);
      const result = await options.run(job, claim);
      if (result.status === "failed") {
        const attempts = job.opts.attempts ?? 1;
        const last = job.attemptsMade + 1 >= attempts || options.retryable?.(result) === false;
        const message = (result as { error?: { message?: string } }).error?.message ?? "the run failed";
        if (!last) throw new Error(`attempt ${job.attemptsMade + 1}/${attempts}: ${message}`);
        store.commit(claim, result);
        throw new UnrecoverableError(`failed after ${job.attemptsMade + 1} attempt(s): ${message}`);
      }
      const outcome = store.commit(claim, result);
      // The lease lapsed to another worker mid-run: that worker's result is the one that counts.
      if (outcome === "lost-claim") throw new Error(`lost the claim on ${key} to another worker`);
      return { key, outcome, worker: owner };
    } finally {
      claim.release();
    }
  };

  const worker = new Worker<D & DeferrableData, JobOutcome>(options.queue, processor, {
    connection: options.connection,
    concurrency: options.concurrency ?? 1,
    lockDuration: lockMs,
    stalledInterval: lockMs,
    maxStalledCount: options.maxStalled ?? 2,
    autorun: false,
    name: owner,
  });
  worker.on("completed", (job, value) => {
    summary.completed++;
    log(`${job.id}: ${value.outcome === "written" ? "done" : value.outcome}`);
  });
  worker.on("failed", (job, error) => {
    if (error instanceof DelayedError || error.name === "DelayedError") return;
    if (job !== undefined && (job.finishedOn !== undefined || error instanceof UnrecoverableError)) {
      summary.failed++;
    }
    log(`${job?.id ?? "?"}: ${error.message.split("\n")[0]}`);
  });
  let lastError = "";
  worker.on("error", (error) => {
    // A Redis restart shows up here once per reconnect attempt: say it once, the worker reconnects by itself.
    if (error.message !== lastError) log(`queue: ${error.message}`);
    lastError = error.message;
  });

  const stop = () => void worker.close();
  options.signal?.addEventListener("abort", stop, { once: true });
  const running = worker.run();
  let watcher: Promise<void> = Promise.resolve();
  if (options.untilEmpty === true) watcher = closeWhenEmpty(worker, options);
  await running;
  await watcher;
  options.signal?.removeEventListener("abort", stop);
  return summary;
}

/** Closes `worker` once its queue has had no waiting, delayed or active job on two looks in a row. */
async function closeWhenEmpty<D, R extends StoredResult>(
  worker: Worker,
  options: ConsumeOptions<D, R>,
): Promise<void> {
  const queue = new Queue(options.queue, { connection: options.connection });
  try {
    let idleLooks = 0;
    while (!worker.closing && idleLooks < 2) {
      await new Promise((done) => setTimeout(done, 300));
      try {
        const counts = await queue.getJobCounts("waiting", "active", "delayed", "prioritized", "paused");
        idleLooks = Object.values(counts).every((n) => n === 0) ? idleLooks + 1 : 0;
      } catch {
        // Redis away for a moment (a restart): look again.
        idleLooks = 0;
      }
    }
    await worker.close();
  } finally {
    await queue.close();
  }
}
