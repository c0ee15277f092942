import { countParameters, KoraError, matchingRank, methodDefinition, parseAdapterSpec } from "@kora/spec";
import { resolveViTConfig, toBackboneShape, type ViTConfigInput } from "@kora/vit";
import type { Preset } from "./config/presets";
import type { Experiment, TaskName, TrainingMethod, Variant } from "./config/schema";
import { hashOf } from "./tasks/context";
import type { RunRequest } from "./tasks/tasks";

/** A planned run: a task × method × seed, shared by every experiment row that asks for the same thing. */
export interface PlannedRun extends RunRequest {
  /** Readable name for progress lines. */
  name: string;
  /** Experiment rows that use this run (`4.1/lora-r8`). */
  usedBy: string[];
}

const TASK_ORDER: Record<TaskName, number> = {
  source: 0,
  transfer: 1,
  cka: 2,
  compress: 3,
  dense: 4,
  segment: 5,
};

/**
 * A method whose rank is to match another adapter's parameter count (`rankToMatch`), with its rank resolved on the
 * preset's backbone: the integer rank whose adapter count is nearest (ties to the smaller), alpha scaled with it so
 * alpha / rank — the update's scale — stays the spec's. Any other method is returned as is.
 */
export function resolveMethod(preset: Preset, method: TrainingMethod): TrainingMethod {
  if (method.kind !== "adapter" || method.rankToMatch === undefined) return method;
  const spec = parseAdapterSpec(method.adapter);
  if (!("rank" in spec)) {
    throw new KoraError({
      code: "INVALID_SPEC",
      message: `rankToMatch needs a method with a rank (lora, kora, gated-lora), got ${spec.method}`,
    });
  }
  const shape = toBackboneShape(resolveViTConfig(preset.model as ViTConfigInput));
  const target = countParameters(parseAdapterSpec(method.rankToMatch), shape).adapter;
  const scale = (spec as { alpha: number }).alpha / (spec as { rank: number }).rank;
  const best = matchingRank(method.adapter, shape, target).rank;
  return { kind: "adapter", adapter: { ...method.adapter, rank: best, alpha: scale * best } };
}

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
function presetFingerprint(preset: Preset, task: TaskName): string {
  // The name is left out too: `extended` is `default` plus experiments, so in one folder it reuses default's runs.
  const {
    name: _name,
    notes: _notes,
    description: _description,
    jobs: _jobs,
    segmentation,
    ...rest
  } = preset;
  // A backbone known by its SHA-256 is that file wherever the checkout lives: the folder does not enter the key.
  const backbone =
    rest.backbone.kind === "weights" && rest.backbone.sha256 !== undefined
      ? { kind: "weights", sha256: rest.backbone.sha256 }
      : rest.backbone;
  // Only segmentation runs read the segmentation section: adding it left every other run's key as it was.
  return hashOf({ ...rest, backbone, ...(task === "segment" ? { segmentation } : {}) }, 10);
}

/** What of a variant, besides task and method, makes a different run (defaults leave old keys unchanged). */
export interface RunOptions {
  shuffleLabels: boolean;
  protocol?: Protocol | undefined;
  training?: { gateLearningRateMultiplier: number } | undefined;
}

type Protocol = "source-adapted" | "fresh" | "upstream";

/** The key of a run: task, canonical method, label shuffling, protocol, training options, seed and preset. */
export function runKey(
  preset: Preset,
  task: TaskName,
  method: TrainingMethod,
  options: RunOptions | boolean,
  seed: number,
): string {
  const { shuffleLabels, protocol, training } =
    typeof options === "boolean"
      ? { shuffleLabels: options, protocol: undefined, training: undefined }
      : options;
  const extra = {
    ...(protocol === undefined || protocol === "source-adapted" ? {} : { protocol }),
    ...(training === undefined ? {} : { training }),
  };
  const resolved = resolveMethod(preset, method);
  const hash = hashOf(
    {
      task,
      method: canonicalMethod(resolved),
      shuffleLabels,
      preset: presetFingerprint(preset, task),
      ...extra,
    },
    10,
  );
  const suffix = `${shuffleLabels ? "-shuffled" : ""}${extra.protocol === undefined ? "" : `-${extra.protocol}`}`;
  return `${task}-${methodName(resolved)}${suffix}-${hash}-s${seed}`;
}

/** The run key of an experiment row at a seed (what the report looks its results up by). */
export function variantKey(preset: Preset, variant: Variant, seed: number): string {
  return runKey(
    preset,
    variant.task,
    variant.method,
    { shuffleLabels: variant.shuffleLabels, protocol: variant.protocol, training: variant.training },
    seed,
  );
}

/**
 * Expands experiments × variants × seeds into unique runs, adding the source runs that transfer, CKA and
 * compress runs load (also when `--only` left their experiment out), ordered source → transfer → cka → compress →
 * dense.
 */
export function planRuns(
  preset: Preset,
  experiments: readonly Experiment[],
  seeds: readonly number[],
): PlannedRun[] {
  const runs = new Map<string, PlannedRun>();
  const add = (
    task: TaskName,
    declared: TrainingMethod,
    options: RunOptions,
    seed: number,
    usedBy: string | null,
  ): PlannedRun => {
    const method = resolveMethod(preset, declared);
    const key = runKey(preset, task, method, options, seed);
    const protocol = options.protocol ?? "source-adapted";
    let run = runs.get(key);
    if (run === undefined) {
      const needsSource =
        (task === "transfer" && protocol !== "fresh") || task === "cka" || task === "compress";
      const sourceKey = needsSource
        ? add("source", method, { shuffleLabels: false, training: options.training }, seed, null).key
        : null;
      run = {
        key,
        task,
        method,
        seed,
        shuffleLabels: options.shuffleLabels,
        protocol,
        ...(options.training === undefined ? {} : { training: options.training }),
        sourceKey,
        name: `${task} ${methodName(method)}${options.shuffleLabels ? " (shuffled labels)" : ""}${protocol === "source-adapted" ? "" : ` (${protocol})`} seed ${seed}`,
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
        add(
          variant.task,
          variant.method,
          { shuffleLabels: variant.shuffleLabels, protocol: variant.protocol, training: variant.training },
          seed,
          `${experiment.id}/${variant.id}`,
        );
      }
    }
  }
  const planned = [...runs.values()];
  disambiguateNames(planned);
  return planned.sort((a, b) => TASK_ORDER[a.task] - TASK_ORDER[b.task] || a.seed - b.seed);
}

/**
 * Runs that differ only in what the method's short name leaves out (a gate's init, the composition's basis, where
 * the deltas go) would print the same progress line: each such name gets the first experiment/variant that asked
 * for the run, or its key when nothing did (a source run added for a transfer run only).
 */
function disambiguateNames(runs: PlannedRun[]): void {
  const byName = new Map<string, PlannedRun[]>();
  for (const run of runs) byName.set(run.name, [...(byName.get(run.name) ?? []), run]);
  for (const group of byName.values()) {
    if (group.length < 2) continue;
    for (const run of group) run.name = `${run.name} [${run.usedBy[0] ?? run.key}]`;
  }
}

/** Selects experiments by `--only` ids (exact, or a prefix followed by `-`: `ablation` selects every ablation). */
export function selectExperiments(
  experiments: readonly Experiment[],
  only: readonly string[] | null,
): Experiment[] {
  if (only === null || only.length === 0) return [...experiments];
  return experiments.filter((e) => only.some((id) => e.id === id || e.id.startsWith(`${id}-`)));
}
