import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Dataset } from "@kora/datasets";
import { finetune, gateValues, gateVariableNames, type Task, trainableVariables } from "@kora/finetune";
import { KoraError } from "@kora/spec";
import { warmupCosineSchedule } from "@kora/tfjs";
import type { ViT } from "@kora/vit";
import { setAside } from "../damaged";
import { type TaskContext, warmupSteps } from "./context";
import { curveJournal, newestCheckpointStep } from "./curve-journal";
import { checkpointDir } from "./model";
import type { CurvePoint, RunRequest } from "./types";

/**
 * Codes with which `finetune` refuses a folder of verified checkpoints (ones with manifests) before it restores
 * anything into the model: no checkpoint verifies, or the newest one that does is another configuration's.
 */
const UNUSABLE_CHECKPOINT = new Set(["CHECKPOINT_CORRUPT", "CHECKPOINT_MISMATCH"]);

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

/** What a run's training left: its loss curve, how its gates moved, and how long it took. */
export interface Trained {
  curve: CurvePoint[];
  /** The learnable gates' path (KoRA and the gated twins); null for a method without one. */
  gateTrajectory: GateTrajectory | null;
  seconds: number;
}

/**
 * How far a run's learnable gates moved, step by step, beside the farthest Adam could have moved them. Adam's
 * update of a parameter is lr·m̂/(√v̂ + ε), whose size is about lr (exactly lr on the first step, and at most about
 * lr while the gradient's sign holds), so a gate can move at most about Σ lr over the steps so far: its *reach*.
 * A gate whose distance moved equals its reach went as fast as the optimizer lets it the whole run, and where it
 * ended is set by the learning rate and the step count, not by what it learned.
 */
export interface GateTrajectory {
  /** Optimizer steps recorded: about {@link TRAJECTORY_POINTS}, evenly spaced, always the last. */
  steps: number[];
  /** Σ of the gates' learning rate (schedule and gate multiplier included) over steps 1 … step, per recorded step. */
  reach: number[];
  /** Per gate (layout order): its block, name, and mean |g| and mean |g − g₀| over its values at each recorded step. */
  gates: { block: number; name: string; absMean: number[]; moved: number[] }[];
}

/** How many points of a gate trajectory are kept (the JSON stays small for runs of thousands of steps). */
export const TRAJECTORY_POINTS = 60;

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
    // The engine reports a step (and the journal records it) before writing the step's checkpoint, so a checkpoint
    // the journal does not cover comes from an earlier engine, which checkpointed first, or a damaged journal: its
    // last losses are unknown. Starting over keeps the run's record (curve included) identical to an
    // uninterrupted run's; the folder is kept aside, not deleted.
    const gap = journal.gap(saved);
    const [to] = setAside(context.out, [dir], `no loss journal (${gap})`);
    context.log(
      `${request.key}: warning: the checkpoint at step ${saved} has no loss journal up to it (${gap}); moved ${dir} to ${to}; training from step 0`,
    );
  }
  // Before training the model holds the gates' starting values (their init, or a source run's for a transfer):
  // a resumed run loads its checkpoint inside finetune, so this is the start of the run either way.
  const start = gateValues(vit);
  // Frozen gates (the upstream protocol trains a new head only) have no path to record.
  const trainable = trainableVariables(vit);
  const gatesTrain = start.length > 0 && gateVariableNames(vit).every((name) => name in trainable);
  const trajectory = gatesTrain ? emptyTrajectory(start) : null;
  const every = Math.max(1, Math.ceil(plan.steps / TRAJECTORY_POINTS));
  const warmup = warmupSteps(plan.steps);
  // finetune's schedule: update t (1-based) uses factor(t − 1); the sum is known without having seen the steps, so
  // a resumed run's reach counts the steps before its checkpoint too.
  const factor = warmupCosineSchedule({ warmupSteps: warmup, totalSteps: Math.max(plan.steps, warmup + 1) });
  const rate = plan.learningRate * (plan.gateLearningRateMultiplier ?? 1);
  const reachAfter = (step: number) => {
    let sum = 0;
    for (let t = 0; t < step; t++) sum += factor(t);
    return rate * sum;
  };
  const attempt = () =>
    finetune({
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
        dir,
        everySteps: Math.max(5, Math.ceil(plan.steps / 4)),
        // Two, so a resume can fall back past a damaged newest checkpoint to the one before it.
        keepLast: 2,
      },
      onStep: (event) => {
        curve.push({ step: event.step, loss: event.loss });
        let gates: GatePoint | undefined;
        if (trajectory !== null && (event.step % every === 0 || event.step === plan.steps)) {
          gates = gatePoint(start, gateValues(vit), reachAfter(event.step));
          pushGatePoint(trajectory, event.step, gates);
        }
        journal.append({ step: event.step, loss: event.loss, ...(gates === undefined ? {} : { gates }) });
        context.onProgress(event.step, plan.steps);
      },
      // A resume that falls back past a damaged checkpoint says which file and which checkpoint it resumed from.
      onWarning: (warning) => context.log(`${request.key}: warning: ${warning.message}`),
    });
  const verified = newestCheckpointStep(dir) !== null;
  let result: Awaited<ReturnType<typeof finetune>>;
  try {
    result = await attempt();
  } catch (error) {
    // No checkpoint of the folder verifies (or it is another configuration's): every rerun would fail the same way.
    // With manifests the engine refuses before it restores anything or takes a step, so the run starts over from
    // step 0 on the model as it was, the folder kept aside.
    const unusable = KoraError.isInstance(error) && UNUSABLE_CHECKPOINT.has(error.code);
    if (!(verified && curve.length === 0 && unusable)) throw error;
    const [to] = setAside(context.out, [dir], (error as Error).message);
    context.log(
      `${request.key}: warning: no checkpoint in ${dir} can be resumed from (${(error as KoraError).code}: ${(error as Error).message}); moved the folder to ${to}; training from step 0`,
    );
    result = await attempt();
  }
  // The checkpoints a resume passed over are renamed *.damaged inside the folder, which the task removes once the
  // run is done: they are moved aside with the rest of the harness's damaged files instead.
  const passedOver = existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith(".damaged")) : [];
  if (passedOver.length > 0) {
    setAside(
      context.out,
      passedOver.map((name) => join(dir, name)),
      "failed verification",
    );
  }
  if (result.resumedFrom !== null) {
    context.log(`${request.key}: resumed from the checkpoint at step ${result.resumedFrom}`);
    // The steps before the checkpoint ran in an earlier process: their losses and gate points come from the journal
    // it kept, so a resumed run records the same curve and gate path as an uninterrupted one.
    const earlier = journal.before(result.resumedFrom);
    curve.unshift(...earlier.map(({ step, loss }) => ({ step, loss })));
    if (trajectory !== null) {
      const prefix = emptyTrajectory(start);
      for (const entry of earlier)
        if (entry.gates !== undefined) pushGatePoint(prefix, entry.step, entry.gates);
      trajectory.steps.unshift(...prefix.steps);
      trajectory.reach.unshift(...prefix.reach);
      trajectory.gates.forEach((gate, i) => {
        gate.absMean.unshift(...(prefix.gates[i]?.absMean ?? []));
        gate.moved.unshift(...(prefix.gates[i]?.moved ?? []));
      });
    }
  }
  return { curve, gateTrajectory: trajectory, seconds: (performance.now() - started) / 1000 };
}

function emptyTrajectory(start: ReturnType<typeof gateValues>): GateTrajectory {
  return {
    steps: [],
    reach: [],
    gates: start.map((gate) => ({ block: gate.block, name: gate.name, absMean: [], moved: [] })),
  };
}

/** One recorded point of the gates' path: the reach so far and, per gate, mean |g| and mean |g − g₀|. */
export interface GatePoint {
  reach: number;
  absMean: number[];
  moved: number[];
}

function gatePoint(
  start: ReturnType<typeof gateValues>,
  now: ReturnType<typeof gateValues>,
  reach: number,
): GatePoint {
  return {
    reach,
    absMean: start.map((_, i) => now[i]?.absMean ?? Number.NaN),
    moved: start.map((gate, i) => {
      const values = now[i]?.values ?? [];
      const from = gate.values ?? [];
      return (
        values.reduce((sum, value, c) => sum + Math.abs(value - (from[c] ?? 0)), 0) /
        Math.max(1, values.length)
      );
    }),
  };
}

function pushGatePoint(trajectory: GateTrajectory, step: number, point: GatePoint): void {
  trajectory.steps.push(step);
  trajectory.reach.push(point.reach);
  trajectory.gates.forEach((gate, i) => {
    gate.absMean.push(point.absMean[i] ?? Number.NaN);
    gate.moved.push(point.moved[i] ?? Number.NaN);
  });
}
