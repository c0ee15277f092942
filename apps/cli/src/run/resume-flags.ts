import { resolve } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { methodDefinition } from "@kora/spec";
import { METHOD_FLAG_NAMES } from "../adapter-flags";
import type { TrainInputs } from "./experiment";
import type { RunFile, TrainSettings } from "./run-file";
import { trainSettings } from "./train-settings";
import { adapterSpec, backboneReference } from "./train-source";

/** What `--resume` may change: how long to train, how often to checkpoint, where it runs. */
export const RESUME_MAY_CHANGE = new Set(["epochs", "steps", "checkpointEvery", "backend", "threads", "out"]);

const SETTINGS = ["batchSize", "lr", "weightDecay", "gateLrMultiplier", "headLr", "warmup", "seed"] as const;
const ADAPTER_KEYS = new Set<string>([...METHOD_FLAG_NAMES, "method", "spec", "adapter"]);

function flag(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * The flags of a `--resume` that differ from what the run was started with, each as `--flag value (the run has
 * …)`. Flags equal to run.json's are not differences: repeating the command line that started a run (with a
 * new `--steps`) continues it.
 */
export async function resumeDifferences(flags: TrainInputs, run: RunFile): Promise<string[]> {
  const given = Object.entries(flags).filter(
    ([key, value]) => value !== undefined && !RESUME_MAY_CHANGE.has(key),
  );
  const differences: string[] = [];
  for (const key of SETTINGS) {
    const value = flags[key];
    // A run written before --gate-lr-multiplier existed trained its gates at the plain learning rate, and a run
    // without --head-lr (or written before it existed) its head at --lr.
    const runValue =
      key === "gateLrMultiplier"
        ? (run.training[key] ?? 1)
        : key === "headLr"
          ? (run.training[key] ?? run.training.lr)
          : run.training[key];
    if (value !== undefined && value !== runValue)
      differences.push(`${flag(key)} ${value} (the run has ${runValue})`);
  }
  const backbone = run.backbone;
  if (flags.backbone !== undefined && !("preset" in backbone && backbone.preset === flags.backbone))
    differences.push(
      `--backbone ${flags.backbone} (the run has ${"preset" in backbone ? backbone.preset : backbone.weights})`,
    );
  if (flags.weights !== undefined || flags.config !== undefined) {
    const named =
      flags.weights === undefined
        ? undefined
        : backboneReference(
            { weights: flags.weights, ...(flags.config === undefined ? {} : { config: flags.config }) },
            0,
          );
    const runWeights = "weights" in backbone ? backbone.weights : undefined;
    const runConfig = "config" in backbone ? backbone.config : undefined;
    if (named !== undefined && "weights" in named && named.weights !== runWeights)
      differences.push(
        `--weights ${flags.weights} (the run has ${runWeights ?? `the preset ${"preset" in backbone ? backbone.preset : ""}`})`,
      );
    if (flags.config !== undefined && resolve(flags.config) !== runConfig)
      differences.push(`--config ${flags.config} (the run has ${runConfig ?? "none"})`);
  }
  if (flags.dataset !== undefined && flags.dataset !== run.dataset.name)
    differences.push(`--dataset ${flags.dataset} (the run has ${run.dataset.name})`);
  if (flags.root !== undefined && resolve(flags.root) !== resolve(run.dataset.root ?? ""))
    differences.push(
      `--root ${flags.root} (the run has ${run.dataset.root ?? "the dataset's default root"})`,
    );
  const adapterFlags = given.map(([key]) => key).filter((key) => ADAPTER_KEYS.has(key));
  if (adapterFlags.length > 0) {
    let spec: unknown;
    try {
      spec = await adapterSpec(Object.fromEntries(given.filter(([key]) => ADAPTER_KEYS.has(key))));
    } catch {
      spec = undefined;
    }
    if (!isDeepStrictEqual(spec, run.spec))
      differences.push(
        `${adapterFlags.map(flag).join(", ")}: not the run's adapter (${methodDefinition(run.spec).describe(run.spec)})`,
      );
  }
  return differences;
}

/**
 * The settings a `kora train --resume` trains with: run.json's, with the flags that may change (`--steps`,
 * `--epochs`, `--checkpoint-every`) applied. A setting the run did not record stays unrecorded when this command
 * line leaves it at what the run trained with — a run without `--head-lr` trained its head at `--lr`, and a run
 * written before `--gate-lr-multiplier` existed trained its gates at 1× — so its settings, and with them its
 * checkpoints' fingerprint, are the ones it was started with; filling in the default would refuse the resume with
 * `CHECKPOINT_MISMATCH`. Call after {@link resumeDifferences} found none.
 */
export function resumedSettings(previous: RunFile, flags: TrainInputs): TrainSettings {
  const inputs: TrainInputs = { ...previous.training, ...flags };
  if (previous.training.headLr === undefined) delete inputs.headLr;
  if (flags.steps !== undefined && flags.epochs === undefined) delete inputs.epochs;
  if (flags.epochs !== undefined && flags.steps === undefined) delete inputs.steps;
  return withoutUnrecorded(trainSettings(inputs, 1), previous.training);
}

/**
 * Drops `gateLrMultiplier` from `settings` when `recorded` (a run.json's settings) has none and `settings` trains
 * the gates at 1×, the rate such a run trained them at (see {@link resumedSettings}).
 */
export function withoutUnrecorded(settings: TrainSettings, recorded: TrainSettings): TrainSettings {
  if (recorded.gateLrMultiplier !== undefined || settings.gateLrMultiplier !== 1) return settings;
  const { gateLrMultiplier: _unrecorded, ...rest } = settings;
  return rest;
}
