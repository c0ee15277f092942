import { methodDefinition, parseAdapterSpec } from "@kora/spec";
import type { Preset } from "./config/presets";
import type { Experiment, TaskName, TrainingMethod } from "./config/schema";
import { hashOf } from "./tasks/context";
import type { RunRequest } from "./tasks/tasks";

/** A planned run: a task × method × seed, shared by every experiment row that asks for the same thing. */
export interface PlannedRun extends RunRequest {
  /** Readable name for progress lines. */
  name: string;
  /** Experiment rows that use this run (`4.1/lora-r8`). */
  usedBy: string[];
}

const TASK_ORDER: Record<TaskName, number> = { source: 0, transfer: 1, cka: 2, dense: 3 };

/** The method with every default filled in, so equal settings give equal run keys. */
function canonicalMethod(method: TrainingMethod): unknown {
  return method.kind === "adapter" ? { kind: "adapter", adapter: parseAdapterSpec(method.adapter) } : method;
}

function methodName(method: TrainingMethod): string {
  if (method.kind !== "adapter") return method.kind;
  const spec = parseAdapterSpec(method.adapter);
  return methodDefinition(spec).label(spec);
}

/** What of the preset a task's result depends on (part of the run key, so presets never share results). */
function presetFingerprint(preset: Preset): string {
  const { notes: _notes, description: _description, ...rest } = preset;
  return hashOf(rest, 10);
}

/** The key of a run: task, canonical method, label shuffling, seed and preset fingerprint. */
export function runKey(
  preset: Preset,
  task: TaskName,
  method: TrainingMethod,
  shuffleLabels: boolean,
  seed: number,
): string {
  const hash = hashOf(
    { task, method: canonicalMethod(method), shuffleLabels, preset: presetFingerprint(preset) },
    10,
  );
  return `${task}-${methodName(method)}${shuffleLabels ? "-shuffled" : ""}-${hash}-s${seed}`;
}

/**
 * Expands experiments × variants × seeds into unique runs, adding the source runs that transfer and CKA runs
 * load (also when `--only` left their experiment out), ordered source → transfer → cka → dense.
 */
export function planRuns(
  preset: Preset,
  experiments: readonly Experiment[],
  seeds: readonly number[],
): PlannedRun[] {
  const runs = new Map<string, PlannedRun>();
  const add = (
    task: TaskName,
    method: TrainingMethod,
    shuffleLabels: boolean,
    seed: number,
    usedBy: string | null,
  ): PlannedRun => {
    const key = runKey(preset, task, method, shuffleLabels, seed);
    let run = runs.get(key);
    if (run === undefined) {
      const sourceKey =
        task === "transfer" || task === "cka" ? add("source", method, false, seed, null).key : null;
      run = {
        key,
        task,
        method,
        seed,
        shuffleLabels,
        sourceKey,
        name: `${task} ${methodName(method)}${shuffleLabels ? " (shuffled labels)" : ""} seed ${seed}`,
        usedBy: [],
      };
      runs.set(key, run);
    }
    if (usedBy !== null && !run.usedBy.includes(usedBy)) run.usedBy.push(usedBy);
    return run;
  };
  for (const seed of seeds) {
    for (const experiment of experiments) {
      for (const variant of experiment.variants) {
        add(variant.task, variant.method, variant.shuffleLabels, seed, `${experiment.id}/${variant.id}`);
      }
    }
  }
  return [...runs.values()].sort((a, b) => TASK_ORDER[a.task] - TASK_ORDER[b.task] || a.seed - b.seed);
}

/** Selects experiments by `--only` ids (exact, or a prefix followed by `-`: `ablation` selects every ablation). */
export function selectExperiments(
  experiments: readonly Experiment[],
  only: readonly string[] | null,
): Experiment[] {
  if (only === null || only.length === 0) return [...experiments];
  return experiments.filter((e) => only.some((id) => e.id === id || e.id.startsWith(`${id}-`)));
}
