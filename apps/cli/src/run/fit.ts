import { join } from "node:path";
import type { Dataset } from "@kora/datasets";
import { type FinetuneResult, finetune, plannedSteps as finetuneSteps, type Task } from "@kora/finetune";
import { KoraError } from "@kora/spec";
import { listCheckpoints, type StepEvent, type TrainWarning } from "@kora/tfjs";
import type { ViT } from "@kora/vit";
import type { Output } from "../output/context";
import { createProgress, formatDuration } from "../output/progress";
import { appendMetricsLine, trimMetricsLog } from "./metrics-log";
import { RUN_FILES, type TrainSettings } from "./run-file";

/** Steps a run makes: `steps`, or `epochs` passes of ⌈examples / batch size⌉ steps, whichever ends first. */
export function plannedSteps(settings: TrainSettings, examples: number): number {
  return finetuneSteps(examples, settings);
}

/**
 * The newest complete checkpoint of a checkpoint folder (one with its manifest: the engine writes the manifest
 * after the data and before `latest.json`), or `null` when it has none or cannot be read.
 */
export async function lastCheckpoint(dir: string): Promise<{ step: number; path: string } | null> {
  try {
    const newest = (await listCheckpoints(dir)).filter((entry) => entry.manifest !== null).at(-1);
    return newest === undefined ? null : { step: newest.step, path: newest.path };
  } catch {
    return null;
  }
}

/** What {@link fit} needs. */
export interface FitInput {
  vit: ViT;
  task: Task;
  dataset: Dataset;
  /** Train on these dataset indices only (a fixed subset), else on every example. */
  indices?: Int32Array;
  settings: TrainSettings;
  runDir: string;
  /** Continue from the latest checkpoint in `runDir/checkpoints`. */
  resume: boolean;
  output: Output;
  /** Progress label. */
  label: string;
  /**
   * The run's description every checkpoint records (`runFingerprint`): a resume from a checkpoint of another run
   * is refused with `CHECKPOINT_MISMATCH`.
   */
  fingerprint: unknown;
  /** Called with each warning after it is printed (to record it in `run.json`). */
  onWarning?: (warning: TrainWarning) => void | Promise<void>;
}

/** What {@link fit} returns. */
export interface FitResult {
  result: FinetuneResult | null;
  /** Ctrl-C stopped the run after the checkpoint of `step` was written. */
  interrupted: { step: number; checkpoint: string | null } | null;
  totalSteps: number;
}

/**
 * Trains the adapter and the head with `@kora/finetune`'s `finetune` (AdamW without decay on biases, norms and
 * gates, warm-up + cosine schedule, gradient clipping at 1, seeded epoch order — as the harness trains), with the
 * CLI's reporting around it: checkpoints in `runDir/checkpoints` (every `checkpointEvery` steps, at the end, and on
 * Ctrl-C), one JSON line per step in `runDir/metrics.jsonl`, and a progress bar with loss, learning rate,
 * images/s and ETA. Ctrl-C (SIGINT) finishes the step in progress, saves a checkpoint and returns `interrupted`;
 * a second Ctrl-C quits at once.
 */
export async function fit(input: FitInput): Promise<FitResult> {
  const { vit, task, dataset, settings, runDir, output } = input;
  const examples = input.indices?.length ?? dataset.size;
  const totalSteps = plannedSteps(settings, examples);
  const metricsPath = join(runDir, RUN_FILES.metrics);
  // Ctrl-C aborts train(): the step in progress finishes, train() writes a checkpoint and resolves `stopped`.
  const stop = new AbortController();
  const onSignal = (): void => {
    if (stop.signal.aborted) {
      output.note("kora: interrupted again; quitting without a checkpoint", true);
      process.exit(130);
    }
    stop.abort();
    // End the bar first: drawn again after the message, it would overwrite it on a terminal.
    (progress as ReturnType<typeof createProgress> | null)?.stop();
    output.note("\nkora: stopping after this step (saving a checkpoint); Ctrl-C again to quit now", true);
  };
  const checkpoint = {
    dir: join(runDir, RUN_FILES.checkpoints),
    keepLast: 3,
    resume: input.resume,
    fingerprint: input.fingerprint,
    ...(settings.checkpointEvery === undefined ? {} : { everySteps: settings.checkpointEvery }),
  };
  let progress: ReturnType<typeof createProgress> | null = null;
  let firstStep = true;
  let firstStepNumber = 0;
  const onStep = async (event: StepEvent): Promise<void> => {
    if (firstStep) {
      firstStep = false;
      firstStepNumber = event.step;
      // A resumed run replays the steps after its checkpoint (which may be older than latest.json names, when a
      // damaged one was passed over): drop their lines from the log first, and any line a crash tore.
      const { unreadable, missing } = trimMetricsLog(metricsPath, event.step);
      if (missing.length > 0) {
        output.note(
          `kora: warning: ${metricsPath} has no line for step ${missing.join(", ")}: the process stopped after that step's checkpoint and before its log line; the log has a gap there`,
          true,
        );
      }
      if (unreadable.length > 0) {
        output.note(
          `kora: warning: ${metricsPath}: skipped ${unreadable.length} torn or unreadable line(s) (line ${unreadable.join(", ")}), e.g. a write cut short by a full disk`,
          true,
        );
      }
      progress = createProgress(output, {
        label: input.label,
        total: totalSteps,
        start: event.step - 1,
        detail: true,
      });
    }
    try {
      appendMetricsLine(
        metricsPath,
        JSON.stringify({
          step: event.step,
          epoch: event.epoch,
          loss: event.loss,
          lr: event.learningRate,
          gradientNorm: event.gradientNorm,
          imagesPerSecond: event.imagesPerSecond,
          elapsedSeconds: event.elapsedSeconds,
        }),
      );
    } catch (error) {
      if (!KoraError.isInstance(error)) throw error;
      // The step's checkpoint comes after its line, so it was not written: say which one a rerun resumes from.
      const last = await lastCheckpoint(checkpoint.dir);
      throw new KoraError({
        code: error.code,
        message: `step ${event.step}: ${error.message}; ${
          last === null
            ? "no checkpoint of this run was completed before it"
            : `the last complete checkpoint ${last.path} (step ${last.step}) is intact and a rerun resumes from it`
        }`,
        path: metricsPath,
        cause: error,
      });
    }
    // The trainer knows no total when it trains by epochs over a subset (transfer), but the planned steps are
    // known here: estimate from this session's mean step time.
    const ownEta = (e: StepEvent): number =>
      (Math.max(0, totalSteps - e.step) * e.elapsedSeconds) / (e.step - firstStepNumber + 1);
    progress?.tick(
      1,
      `loss ${event.loss.toFixed(4)} | lr ${event.learningRate.toExponential(2)} | ${event.imagesPerSecond.toFixed(0)} img/s | ETA ${formatDuration(event.etaSeconds ?? ownEta(event))}`,
    );
  };

  process.on("SIGINT", onSignal);
  try {
    const result = await finetune({
      vit,
      task,
      dataset,
      indices: input.indices,
      batchSize: settings.batchSize,
      epochs: settings.epochs,
      steps: settings.steps,
      learningRate: settings.lr,
      weightDecay: settings.weightDecay,
      gateLearningRateMultiplier: settings.gateLrMultiplier ?? 1,
      ...(settings.headLr === undefined ? {} : { headLearningRate: settings.headLr }),
      warmupSteps: settings.warmup,
      seed: settings.seed,
      checkpoint,
      signal: stop.signal,
      onStep,
      onWarning: async (warning) => {
        output.note(`kora: warning: ${warning.message}`, true);
        await input.onWarning?.(warning);
      },
    });
    if (result.stopped) {
      return { result: null, interrupted: { step: result.step, checkpoint: result.checkpoint }, totalSteps };
    }
    return { result, interrupted: null, totalSteps };
  } finally {
    process.off("SIGINT", onSignal);
    (progress as ReturnType<typeof createProgress> | null)?.stop();
  }
}
