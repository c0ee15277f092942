import { rmSync } from "node:fs";
import type { Dataset } from "@kora/datasets";
import { finetune, type Task } from "@kora/finetune";
import type { ViT } from "@kora/vit";
import { type TaskContext, warmupSteps } from "./context";
import { curveJournal, newestCheckpointStep } from "./curve-journal";
import { checkpointDir } from "./model";
import type { CurvePoint, RunRequest } from "./types";

/** What a harness run trains: data, length and learning rate (the rest is the harness's fixed recipe). */
export interface TrainingPlan {
  dataset: Dataset;
  items: number[];
  /** Labels replacing the dataset's, one per item (the shuffled-labels control). */
  labels?: Int32Array | undefined;
  steps: number;
  learningRate: number;
  /** Scale of the gates' learning rate (the gate ablation); default 1. */
  gateLearningRateMultiplier?: number | undefined;
  /** The head's own rate (full fine-tuning); default `learningRate`. */
  headLearningRate?: number | undefined;
}

/** What a run's training left: its loss curve and how long it took. */
export interface Trained {
  curve: CurvePoint[];
  seconds: number;
}

/**
 * Trains a run's model with `@kora/finetune` on the harness's recipe: weight decay 0.01, 10 % warm-up, gradient
 * clipping at 1 (the package default), the run's seed, and a resumable checkpoint folder per run
 * (every quarter of the run).
 */
export async function trainRun(
  context: TaskContext,
  request: RunRequest,
  vit: ViT,
  task: Task,
  plan: TrainingPlan,
): Promise<Trained> {
  const curve: CurvePoint[] = [];
  const started = performance.now();
  const dir = checkpointDir(context.out, request.key);
  const journal = curveJournal(dir);
  const saved = newestCheckpointStep(dir);
  if (saved !== null && !journal.covers(saved)) {
    // The engine checkpoints a step just before reporting its loss: a process killed between the two left a
    // checkpoint whose last losses are unknown. Starting over keeps the run's record (curve included) identical
    // to an uninterrupted run's; it costs the steps since the start, in a window of milliseconds per checkpoint.
    context.log(
      `${request.key}: the checkpoint at step ${saved} has no loss journal up to it; training from step 0`,
    );
    rmSync(dir, { recursive: true, force: true });
  }
  const result = await finetune({
    vit,
    task,
    dataset: plan.dataset,
    indices: plan.items,
    labels: plan.labels,
    batchSize: context.preset.batchSize,
    steps: plan.steps,
    learningRate: plan.learningRate,
    ...(plan.gateLearningRateMultiplier === undefined
      ? {}
      : { gateLearningRateMultiplier: plan.gateLearningRateMultiplier }),
    ...(plan.headLearningRate === undefined ? {} : { headLearningRate: plan.headLearningRate }),
    weightDecay: 0.01,
    warmupSteps: warmupSteps(plan.steps),
    seed: request.seed,
    checkpoint: {
      dir: checkpointDir(context.out, request.key),
      everySteps: Math.max(5, Math.ceil(plan.steps / 4)),
      keepLast: 1,
    },
    onStep: (event) => {
      curve.push({ step: event.step, loss: event.loss });
      journal.append({ step: event.step, loss: event.loss });
      context.onProgress(event.step, plan.steps);
    },
  });
  if (result.resumedFrom !== null) {
    context.log(`${request.key}: resumed from the checkpoint at step ${result.resumedFrom}`);
    // The steps before the checkpoint ran in an earlier process: their losses come from the journal it kept, so a
    // resumed run records the same curve as an uninterrupted one.
    const resumedFrom = result.resumedFrom;
    curve.unshift(...journal.before(resumedFrom));
  }
  return { curve, seconds: (performance.now() - started) / 1000 };
}
