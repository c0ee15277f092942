import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Dataset } from "@kora/datasets";
import {
  type AdapterHandle,
  adamW,
  crossEntropy,
  isNoWeightDecayParameter,
  type StepEvent,
  scaleInvariantLogLoss,
  type TrainResult,
  train,
  warmupCosineSchedule,
} from "@kora/tfjs";
import type { ViT } from "@kora/vit";
import type * as tf from "@tensorflow/tfjs";
import type { Output } from "../output/context";
import { createProgress } from "../output/progress";
import { batchOptionsFor, type TensorBatch, tensorBatches } from "./data";
import { ADAPTER_NAME, predict } from "./model";
import { RUN_FILES, type TrainSettings } from "./run-file";

/** Steps a run makes: `steps`, or `epochs` passes of ⌈examples / batch size⌉ steps, whichever ends first. */
export function plannedSteps(settings: TrainSettings, examples: number): number {
  const perEpoch = Math.ceil(examples / settings.batchSize);
  const byEpochs = settings.epochs === undefined ? Number.POSITIVE_INFINITY : settings.epochs * perEpoch;
  return Math.min(settings.steps ?? Number.POSITIVE_INFINITY, byEpochs);
}

/** What {@link fit} needs. */
export interface FitInput {
  vit: ViT;
  handle: AdapterHandle;
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
}

/** What {@link fit} returns. */
export interface FitResult {
  result: TrainResult | null;
  /** Ctrl-C stopped the run after the checkpoint of `step` was written. */
  interrupted: { step: number; checkpoint: string | null } | null;
  totalSteps: number;
}

function formatSeconds(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

/**
 * Trains the adapter and the head with `@kora/tfjs`'s `train`: AdamW (no decay on biases, norms and gates), warm-up
 * + cosine schedule, checkpoints in `runDir/checkpoints` (every `checkpointEvery` steps, at the end, and on
 * Ctrl-C), one JSON line per step in `runDir/metrics.jsonl`, and a progress bar with loss, learning rate,
 * images/s and ETA. Ctrl-C (SIGINT) finishes the step in progress, saves a checkpoint and returns `interrupted`;
 * a second Ctrl-C quits at once.
 */
export async function fit(input: FitInput): Promise<FitResult> {
  const { vit, handle, dataset, settings, runDir, output } = input;
  const examples = input.indices?.length ?? dataset.size;
  const totalSteps = plannedSteps(settings, examples);
  const variables: Record<string, tf.Variable> = {};
  for (const [name, variable] of handle.adapterVariables(ADAPTER_NAME))
    variables[`adapter/${name}`] = variable;
  for (const parameter of vit.head?.namedParameters() ?? [])
    variables[`head/${parameter.name}`] = parameter.variable;

  const optimizer = adamW({
    learningRate: settings.lr,
    weightDecay: settings.weightDecay,
    groups: [{ match: isNoWeightDecayParameter, weightDecay: 0 }],
  });
  const batchOptions = batchOptionsFor(vit.config, settings.batchSize);
  const metricsPath = join(runDir, RUN_FILES.metrics);
  // Ctrl-C aborts train(): the step in progress finishes, train() writes a checkpoint and resolves `stopped`.
  const stop = new AbortController();
  const onSignal = (): void => {
    if (stop.signal.aborted) {
      output.note("kora: interrupted again; quitting without a checkpoint", true);
      process.exit(130);
    }
    stop.abort();
    output.note("\nkora: stopping after this step (saving a checkpoint); Ctrl-C again to quit now", true);
  };
  const checkpoint = {
    dir: join(runDir, RUN_FILES.checkpoints),
    keepLast: 3,
    resume: input.resume,
    ...(settings.checkpointEvery === undefined ? {} : { everySteps: settings.checkpointEvery }),
  };
  let progress: ReturnType<typeof createProgress> | null = null;
  let firstStep = true;
  const onStep = (event: StepEvent): void => {
    if (firstStep) {
      firstStep = false;
      // A resumed run replays the steps after its checkpoint: drop their lines from the log first.
      if (existsSync(metricsPath)) {
        const kept = readFileSync(metricsPath, "utf8")
          .split("\n")
          .filter((line) => line.trim() !== "" && (JSON.parse(line) as { step: number }).step < event.step);
        writeFileSync(metricsPath, kept.map((line) => `${line}\n`).join(""));
      }
      progress = createProgress(output, {
        label: input.label,
        total: totalSteps,
        start: event.step - 1,
        detail: true,
      });
    }
    appendFileSync(
      metricsPath,
      `${JSON.stringify({
        step: event.step,
        epoch: event.epoch,
        loss: event.loss,
        lr: event.learningRate,
        gradientNorm: event.gradientNorm,
        imagesPerSecond: event.imagesPerSecond,
        elapsedSeconds: event.elapsedSeconds,
      })}\n`,
    );
    progress?.tick(
      1,
      `loss ${event.loss.toFixed(4)} | lr ${event.learningRate.toExponential(2)} | ${event.imagesPerSecond.toFixed(0)} img/s | ETA ${formatSeconds(event.etaSeconds)}`,
    );
  };

  process.on("SIGINT", onSignal);
  try {
    const result = await train<TensorBatch>({
      model: (batch, context) => predict(vit, batch.images, context.training),
      variables,
      data: (context) =>
        tensorBatches(dataset, {
          ...batchOptions,
          shuffle: true,
          seed: context.seed,
          epoch: context.epoch,
          ...(input.indices === undefined ? {} : { indices: input.indices }),
        }),
      loss: (out, batch) =>
        batch.kind === "classification"
          ? crossEntropy(out, batch.labels)
          : scaleInvariantLogLoss(out, batch.depths, { mask: batch.mask }),
      optimizer,
      schedule: warmupCosineSchedule({ warmupSteps: settings.warmup, totalSteps }),
      ...(settings.epochs === undefined ? {} : { epochs: settings.epochs }),
      ...(settings.steps === undefined ? {} : { steps: settings.steps }),
      seed: settings.seed,
      checkpoint,
      signal: stop.signal,
      onStep,
    });
    if (result.stopped) {
      return { result: null, interrupted: { step: result.step, checkpoint: result.checkpoint }, totalSteps };
    }
    return { result, interrupted: null, totalSteps };
  } finally {
    process.off("SIGINT", onSignal);
    (progress as ReturnType<typeof createProgress> | null)?.stop();
    optimizer.dispose();
  }
}
