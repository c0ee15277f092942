import { readFile } from "node:fs/promises";
import { isAbsolute, join, relative, resolve } from "node:path";
import { MODEL_FILES } from "@kora/finetune";
import { type AdapterSpec, KoraError } from "@kora/spec";
import { writeFileAtomic } from "@kora/spec/node";
import packageJson from "../../package.json";

/**
 * The pretrained backbone of a run: a `@kora/vit` preset initialised by `createViT(preset, { seed })`, or a
 * checkpoint on disk.
 */
export type BackboneReference = { preset: string; seed: number } | { weights: string; config: string };

/** The head a run trains. */
export type HeadDescription =
  | { kind: "classification"; classes: number }
  | {
      kind: "depth";
      /** Metres the fresh head predicted before training: the training data's median depth (bias = its log). */
      initialDepth?: number;
    };

/** Optimisation settings of a run (every default filled in). */
export interface TrainSettings {
  /** Passes over the training data (with `steps`: whichever ends first). */
  epochs?: number;
  /** Optimizer steps in total. */
  steps?: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  /** Multiplier of the gates' learning rate (absent in runs written before it existed: 1). */
  gateLrMultiplier?: number;
  /**
   * Peak learning rate of the task head, when it was given (else the head trained at `lr`, as in runs written
   * before it existed).
   */
  headLr?: number;
  /** Linear warm-up steps of the warm-up + cosine schedule. */
  warmup: number;
  seed: number;
  /** Save a checkpoint every this many steps (always at the end and on Ctrl-C). */
  checkpointEvery?: number;
}

/** `run.json`: everything `kora eval`, `features`, `merge`, `export` and `transfer` need to rebuild the model. */
export interface RunFile {
  format: "kora-run";
  version: 1;
  /** Version of the `kora` CLI that wrote it. */
  kora: string;
  command: "train" | "transfer";
  task: "classification" | "depth";
  backbone: BackboneReference;
  /** Σ|w| over the backbone's weights (float64), checked whenever the run's model is rebuilt. */
  backboneChecksum?: number;
  head: HeadDescription;
  /** The training data: dataset, split, and the fixed subset of a transfer run. */
  dataset: {
    name: string;
    root?: string;
    split: string;
    examples: number;
    classes?: string[];
    fraction?: number;
  };
  spec: AdapterSpec;
  training: TrainSettings;
  totalSteps: number;
  /** The source run of a transfer run. */
  from?: string;
  status: "running" | "interrupted" | "completed";
  step: number;
  loss: number | null;
  started: string;
  updated: string;
  /** Results of the evaluation a transfer run ends with. */
  evaluation?: Record<string, unknown>;
  /** What the training engine worked around (e.g. a damaged checkpoint passed over on resume), oldest first. */
  warnings?: { kind: string; message: string; path: string; at: string }[];
  /** Why the last attempt stopped, when it failed (`status` is then `interrupted`). */
  failure?: { code: string; message: string; at: string };
}

/** File names inside a run folder: `run.json`, the final model (a `@kora/finetune` model folder), checkpoints, log. */
export const RUN_FILES = {
  run: "run.json",
  model: MODEL_FILES.manifest,
  adapter: MODEL_FILES.adapter,
  adapterTensors: MODEL_FILES.adapterTensors,
  head: MODEL_FILES.head,
  checkpoints: "checkpoints",
  metrics: "metrics.jsonl",
} as const;

/** Absolute paths, so a run folder works from any working directory. */
export function absoluteBackbone(reference: BackboneReference): BackboneReference {
  return "preset" in reference
    ? reference
    : { weights: resolve(reference.weights), config: resolve(reference.config) };
}

/** Rewrites the paths a run file holds (checkpoint, dataset root, source run). */
function mapPaths(run: RunFile, map: (path: string) => string): RunFile {
  const backbone = run.backbone;
  return {
    ...run,
    backbone:
      "preset" in backbone ? backbone : { weights: map(backbone.weights), config: map(backbone.config) },
    dataset: run.dataset.root === undefined ? run.dataset : { ...run.dataset, root: map(run.dataset.root) },
    ...(run.from === undefined ? {} : { from: map(run.from) }),
  };
}

/**
 * Writes `run.json` atomically. Its paths are written relative to the run folder: no absolute path of this
 * machine ends up in a folder that is shared, and a project moved or copied as a whole keeps working.
 */
export async function writeRunFile(dir: string, run: RunFile): Promise<void> {
  const portable = mapPaths(run, (path) => relative(resolve(dir), resolve(path)) || ".");
  const text = `${JSON.stringify({ ...portable, kora: packageJson.version, updated: new Date().toISOString() }, null, 2)}\n`;
  await writeFileAtomic(join(dir, RUN_FILES.run), new TextEncoder().encode(text));
}

/** Reads and checks a run folder's `run.json`. */
export async function readRunFile(dir: string, flag = "--run"): Promise<RunFile> {
  const path = join(dir, RUN_FILES.run);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new KoraError({
      code: "FILE_NOT_FOUND",
      message: `${flag}: ${dir} is not a run folder (no ${RUN_FILES.run}); 'kora train --out DIR' writes one`,
      cause: error,
    });
  }
  let run: unknown;
  try {
    run = JSON.parse(text);
  } catch (error) {
    throw new KoraError({
      code: "INVALID_JSON",
      message: `${path} is not valid JSON (${(error as Error).message})`,
      cause: error,
    });
  }
  if (run === null || typeof run !== "object" || (run as { format?: unknown }).format !== "kora-run") {
    throw new KoraError({ code: "INVALID_RUN", message: `${path}: not a kora run file (format "kora-run")` });
  }
  const version = (run as { version?: unknown }).version;
  if (version !== 1) {
    throw new KoraError({
      code: "INVALID_RUN",
      message: `${path}: run file version ${String(version)} is not supported (this kora reads version 1)`,
    });
  }
  checkRunFields(run as Record<string, unknown>, path);
  // Relative paths are relative to the run folder (absolute ones, as older runs wrote them, stay as they are).
  return mapPaths(run as RunFile, (path) => (isAbsolute(path) ? path : resolve(dir, path)));
}

/** Fields every command reads, with a check of their kind: a hand-edited or truncated run.json fails here, typed. */
const REQUIRED: [string, (value: unknown) => boolean, string][] = [
  ["command", (v) => v === "train" || v === "transfer", '"train" or "transfer"'],
  ["task", (v) => v === "classification" || v === "depth", '"classification" or "depth"'],
  ["backbone", (v) => typeof v === "object" && v !== null, "an object (preset + seed, or weights + config)"],
  ["head", (v) => typeof v === "object" && v !== null, "an object"],
  [
    "dataset",
    (v) => typeof v === "object" && v !== null && typeof (v as { name?: unknown }).name === "string",
    "an object with a name",
  ],
  ["spec", (v) => typeof v === "object" && v !== null, "an adapter spec"],
  ["training", (v) => typeof v === "object" && v !== null, "an object of settings"],
  ["step", (v) => typeof v === "number" && Number.isInteger(v) && v >= 0, "a step count"],
];

function checkRunFields(run: Record<string, unknown>, path: string): void {
  for (const [field, ok, expected] of REQUIRED) {
    if (!(field in run)) {
      throw new KoraError({
        code: "INVALID_RUN",
        message: `${path}: field "${field}" is missing (expected ${expected})`,
        path: field,
      });
    }
    if (!ok(run[field])) {
      throw new KoraError({
        code: "INVALID_RUN",
        message: `${path}: field "${field}" must be ${expected}`,
        path: field,
      });
    }
  }
}

/**
 * A short description of a backbone reference: the preset's name or the weights file. (Not a preset's own seed:
 * it is derived from the run's `--seed`, and printing it read as a seed the user never gave.)
 */
export function describeBackbone(reference: BackboneReference): string {
  return "preset" in reference ? reference.preset : reference.weights;
}
