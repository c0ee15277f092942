import { KoraError } from "@kora/spec";
import { defaultExperimentsDir, loadExperiments } from "./config/experiments";
import type { Preset } from "./config/presets";
import type { Experiment } from "./config/schema";
import { selectExperiments } from "./plan";

/** What of a plan the command line chooses besides the preset. */
export interface PlanSelectionOptions {
  /** Experiment ids (`4.1`, `ablation`); `null` or absent: every experiment the preset runs. */
  only?: readonly string[] | null | undefined;
  /** Number of seeds; default the preset's. */
  seeds?: number | undefined;
  /** Folder of the experiment files (tests). */
  experimentsDir?: string | undefined;
}

/** The experiments and seeds a plan covers. */
export interface PlanSelection {
  experiments: Experiment[];
  seeds: number[];
}

/**
 * The experiments and seeds of a plan, checked: the local runner and the queue's enqueue, status and report resolve
 * them here so every mode plans the same runs from the same flags.
 *
 * @throws KoraError `INVALID_ARGUMENT` when `only` matches no experiment or `seeds` is not a positive integer.
 */
export function selectPlan(preset: Preset, options: PlanSelectionOptions = {}): PlanSelection {
  // The extended ablations run in the extended preset (and in smoke, which exercises every code path).
  const all = loadExperiments(options.experimentsDir ?? defaultExperimentsDir()).filter(
    (experiment) => !experiment.extended || preset.name === "extended" || preset.name === "smoke",
  );
  const experiments = selectExperiments(all, options.only ?? null);
  if (experiments.length === 0) {
    throw new KoraError({
      code: "INVALID_ARGUMENT",
      message: `--only ${options.only?.join(",")} matches no experiment (known: ${all.map((e) => e.id).join(", ")})`,
    });
  }
  const seedCount = options.seeds ?? preset.seeds;
  if (!(Number.isInteger(seedCount) && seedCount >= 1)) {
    throw new KoraError({
      code: "INVALID_ARGUMENT",
      message: `--seeds must be a positive integer, got ${seedCount}`,
    });
  }
  return { experiments, seeds: Array.from({ length: seedCount }, (_, i) => i) };
}
