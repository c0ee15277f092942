import { KoraError } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import type { PlannedRun } from "./plan";
import { gitState, type RunResult } from "./results";
import type { BackboneInfo } from "./tasks/backbone";
import type { TaskContext } from "./tasks/context";
import {
  runCka,
  runCompress,
  runDense,
  runSegment,
  runSource,
  runTransfer,
  type TaskOutput,
} from "./tasks/tasks";

/**
 * Runs one planned run and returns its result record, `ok` or `failed` (a failing task is recorded, never
 * thrown): the one place that turns a task's output into a `RunResult`, shared by the local runner and the queue
 * worker so both write the same record for the same run.
 *
 * @param source the completed result of the run's source run (`null` when it has none); a failed one makes this
 *   run fail with `SOURCE_FAILED` without training.
 */
export async function executeRun(
  context: TaskContext,
  backbone: BackboneInfo,
  run: PlannedRun,
  source: RunResult | null,
  backend: string,
): Promise<RunResult> {
  const { preset } = context;
  const startedAt = new Date();
  const t0 = performance.now();
  let output: TaskOutput | null = null;
  let error: RunResult["error"] = null;
  const tensorsBefore = tf.memory().numTensors;
  try {
    if (source !== null && source.status !== "ok") {
      throw new KoraError({
        code: "SOURCE_FAILED",
        message: `its source run ${run.sourceKey} failed: ${source.error?.message ?? "?"}`,
      });
    }
    const task = {
      source: runSource,
      transfer: runTransfer,
      cka: runCka,
      compress: runCompress,
      dense: runDense,
      segment: runSegment,
    }[run.task];
    output = await task(context, backbone, run);
  } catch (caught) {
    const e = caught as Error & { code?: string };
    error = {
      message: e?.message ?? String(caught),
      code: typeof e?.code === "string" ? e.code : null,
      stack: e?.stack ?? null,
    };
  }
  const leaked = tf.memory().numTensors - tensorsBefore;
  return {
    format: 1,
    key: run.key,
    name: run.name,
    status: output === null ? "failed" : "ok",
    task: run.task,
    method: run.method,
    seed: run.seed,
    shuffleLabels: run.shuffleLabels,
    sourceKey: run.sourceKey,
    usedBy: run.usedBy,
    preset: { name: preset.name, config: { ...preset } },
    git: gitState(),
    backend,
    node: process.version,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    timings: {
      totalSeconds: (performance.now() - t0) / 1000,
      trainSeconds: output?.trainSeconds ?? 0,
      evalSeconds: output?.evalSeconds ?? 0,
    },
    metrics: output?.metrics ?? {},
    curve: output?.curve ?? [],
    extra: { ...(output?.extra ?? {}), tensorsLeaked: leaked },
    error,
  };
}
