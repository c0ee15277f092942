import { existsSync, statSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Dataset } from "@kora/datasets";
import { backboneChecksum } from "@kora/finetune";
import { type AdapterSpec, countParameters, KoraError } from "@kora/spec";
import { selectBackend } from "@kora/tfjs";
import type { ViT } from "@kora/vit";
import { resolveSpec } from "../adapter-flags";
import { parseAdapterSpecWithHints } from "../adapter-spec-input";
import type { Output } from "../output/context";
import { formatInteger, formatPercent, renderFields } from "../output/table";
import { openDatasetSplit } from "../run/data";
import { type BackendInputs, mergeInputs, readExperiment, type TrainInputs } from "../run/experiment";
import { type FitResult, fit } from "../run/fit";
import { buildRunModel, checkBackbone, checkPreset, saveRunModel } from "../run/model";
import {
  absoluteBackbone,
  type BackboneReference,
  describeBackbone,
  type HeadDescription,
  RUN_FILES,
  type RunFile,
  readRunFile,
  type TrainSettings,
  writeRunFile,
} from "../run/run-file";
import { InterruptedError, UsageError } from "../support/errors";
import type { TrainOptions } from "./train";

/** Defaults of the optimisation flags. */
export const TRAIN_DEFAULTS = { batchSize: 32, lr: 1e-3, weightDecay: 0.01, warmup: 0, seed: 0 } as const;

/** Selects the tfjs backend (`--backend`, `--threads`); the "using …" line only with --verbose. */
export async function useBackend({ backend, threads }: BackendInputs, output: Output): Promise<void> {
  await selectBackend({
    ...(backend === undefined ? {} : { prefer: backend }),
    ...(threads === undefined ? {} : { threads }),
    log: (message) => {
      if (output.verbose) output.note(message);
    },
  });
}

/** The optimisation settings with defaults filled in. */
export function trainSettings(inputs: TrainInputs, defaultEpochs: number): TrainSettings {
  const settings: TrainSettings = {
    batchSize: inputs.batchSize ?? TRAIN_DEFAULTS.batchSize,
    lr: inputs.lr ?? TRAIN_DEFAULTS.lr,
    weightDecay: inputs.weightDecay ?? TRAIN_DEFAULTS.weightDecay,
    warmup: inputs.warmup ?? TRAIN_DEFAULTS.warmup,
    seed: inputs.seed ?? TRAIN_DEFAULTS.seed,
  };
  if (!(settings.lr > 0)) throw new UsageError(`--lr must be positive, got ${settings.lr}`);
  if (!(settings.weightDecay >= 0))
    throw new UsageError(`--weight-decay must be ≥ 0, got ${settings.weightDecay}`);
  if (inputs.epochs !== undefined) settings.epochs = inputs.epochs;
  if (inputs.steps !== undefined) settings.steps = inputs.steps;
  if (inputs.epochs === undefined && inputs.steps === undefined) settings.epochs = defaultEpochs;
  if (inputs.checkpointEvery !== undefined) settings.checkpointEvery = inputs.checkpointEvery;
  return settings;
}

function backboneReference(inputs: TrainInputs, seed: number): BackboneReference {
  if (inputs.backbone !== undefined) {
    if (inputs.weights !== undefined) throw new UsageError("give --backbone or --weights, not both");
    checkPreset(inputs.backbone);
    // The preset's own seed is the run's seed + 1, as run folders have always recorded it: the same flags keep
    // building the same backbone.
    return { preset: inputs.backbone, seed: seed + 1 };
  }
  if (inputs.weights !== undefined) {
    let config = inputs.config;
    if (config === undefined) {
      const folder = existsSync(inputs.weights) && statSync(inputs.weights).isDirectory();
      config = join(folder ? inputs.weights : dirname(inputs.weights), "config.json");
    }
    const weights =
      existsSync(inputs.weights) && statSync(inputs.weights).isDirectory()
        ? join(inputs.weights, "model.safetensors")
        : inputs.weights;
    return absoluteBackbone({ weights, config });
  }
  throw new UsageError(
    "give the backbone: --backbone vit-micro|vit-tiny|… or --weights FILE [--config FILE]",
  );
}

async function adapterSpec(inputs: TrainInputs): Promise<AdapterSpec> {
  if (inputs.adapter !== undefined) return parseAdapterSpecWithHints(inputs.adapter, "experiment adapter");
  return (await resolveSpec(inputs)).spec;
}

/** The head a dataset needs. */
export function headFor(dataset: Dataset): HeadDescription {
  return dataset.task === "classification"
    ? { kind: "classification", classes: dataset.classes.length }
    : { kind: "depth" };
}

/** One-line parameter summary of an adapted model (from `@kora/spec`'s exact counts). */
export function parameterLine(spec: AdapterSpec, vit: ViT): string {
  const count = countParameters(spec, vit.backboneShape);
  // A depth head is not counted by countParameters (it counts a classification head): add it.
  const depthHead = vit.head?.kind === "depth" ? vit.headVariables().reduce((n, v) => n + v.size, 0) : 0;
  const trainable = count.trainable + depthHead;
  const total = count.total + depthHead;
  return `${formatInteger(trainable)} of ${formatInteger(total)} parameters train (${formatPercent(trainable / total)})`;
}

const RESUME_MAY_CHANGE = new Set(["epochs", "steps", "checkpointEvery", "backend", "threads", "out"]);

/** Runs `kora train`. */
export async function runTrain(options: TrainOptions, output: Output): Promise<void> {
  const { experiment, resume, ...flags } = options;
  let inputs: TrainInputs =
    experiment === undefined ? flags : mergeInputs(await readExperiment(experiment), flags);
  const out = inputs.out;
  if (out === undefined) throw new UsageError("give --out RUN_DIR (the run folder to write)");

  let previous: RunFile | null = null;
  if (existsSync(join(out, RUN_FILES.run))) {
    if (resume !== true) {
      throw new KoraError({
        code: "RUN_EXISTS",
        message: `--out: ${out} already holds a run (${RUN_FILES.run}); continue it with --resume or choose another folder`,
      });
    }
    previous = await readRunFile(out, "--out");
    if (previous.command !== "train") {
      throw new UsageError(
        `--resume: ${out} is a ${previous.command} run; resume it with 'kora ${previous.command} --resume'`,
      );
    }
    const changed = Object.entries(flags).filter(
      ([key, value]) => value !== undefined && !RESUME_MAY_CHANGE.has(key),
    );
    if (changed.length > 0) {
      throw new UsageError(
        `--resume continues ${out} as its run.json describes it; only --epochs, --steps, --checkpoint-every, --backend and --threads may change (got --${changed[0]![0].replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)})`,
      );
    }
    inputs = { ...previous.training, ...flags };
    if (flags.steps !== undefined && flags.epochs === undefined) delete inputs.epochs;
    if (flags.epochs !== undefined && flags.steps === undefined) delete inputs.steps;
  } else if (resume === true && existsSync(join(out, RUN_FILES.checkpoints)) === false) {
    throw new KoraError({
      code: "FILE_NOT_FOUND",
      message: `--resume: ${out} holds no run to resume (no ${RUN_FILES.run})`,
    });
  }

  const settings = trainSettings(inputs, 1);
  let spec: AdapterSpec;
  let backbone: BackboneReference;
  let datasetChoice: { name: string; root?: string | undefined };
  if (previous !== null) {
    spec = previous.spec;
    backbone = previous.backbone;
    datasetChoice = { name: previous.dataset.name, root: previous.dataset.root };
  } else {
    if (inputs.dataset === undefined)
      throw new UsageError("give --dataset NAME ('kora datasets list' shows them)");
    spec = await adapterSpec(inputs);
    backbone = backboneReference(inputs, settings.seed);
    datasetChoice = { name: inputs.dataset, root: inputs.root };
  }
  await useBackend(inputs, output);
  const dataset = await openDatasetSplit({ ...datasetChoice, split: "train" });
  const head = headFor(dataset);
  const { vit, task } = await buildRunModel(backbone, head, spec, settings.seed);
  try {
    if (previous !== null) checkBackbone(vit, previous, `--resume ${out}`);
    await mkdir(out, { recursive: true });
    const run: RunFile = {
      format: "kora-run",
      version: 1,
      kora: "",
      command: "train",
      task: dataset.task,
      backbone,
      backboneChecksum: backboneChecksum(vit),
      head,
      dataset: {
        name: dataset.name,
        ...(datasetChoice.root === undefined ? {} : { root: datasetChoice.root }),
        split: "train",
        examples: dataset.size,
        ...(dataset.task === "classification" ? { classes: [...dataset.classes] } : {}),
      },
      spec,
      training: settings,
      totalSteps: 0,
      status: "running",
      step: previous?.step ?? 0,
      loss: previous?.loss ?? null,
      started: previous?.started ?? new Date().toISOString(),
      updated: "",
    };
    output.note(
      `kora train: ${spec.method} on ${describeBackbone(backbone)}, ${dataset.name} (${formatInteger(dataset.size)} examples); ${parameterLine(spec, vit)}`,
    );
    await writeRunFile(out, run);
    const outcome = await fit({
      vit,
      task,
      dataset,
      settings,
      runDir: out,
      resume: resume === true,
      output,
      label: "train",
    });
    await finishRun(run, outcome, out, vit, output, "train");
  } finally {
    vit.dispose();
  }
}

/**
 * Records the end of a fit in `run.json`: on Ctrl-C the status `interrupted` and an {@link InterruptedError}
 * (exit 130) saying how to continue; otherwise the final adapter at the top of the run folder and `completed`.
 */
export async function finishRun(
  run: RunFile,
  outcome: FitResult,
  out: string,
  vit: ViT,
  output: Output,
  command: "train" | "transfer",
  extra: () => Promise<{ json: Record<string, unknown>; fields: [string, string][] } | null> = async () =>
    null,
): Promise<void> {
  run.totalSteps = outcome.totalSteps;
  if (outcome.interrupted !== null) {
    run.status = "interrupted";
    run.step = outcome.interrupted.step;
    await writeRunFile(out, run);
    throw new InterruptedError(
      `interrupted at step ${outcome.interrupted.step} of ${outcome.totalSteps}; checkpoint ${outcome.interrupted.checkpoint ?? "(none)"}; continue with 'kora ${command} --resume ${command === "train" ? `--out ${out}` : "… (the same flags)"}'`,
    );
  }
  const result = outcome.result!;
  run.step = result.step;
  run.loss = result.loss ?? run.loss;
  await saveRunModel(vit, out, { run: out, dataset: run.dataset.name, seed: String(run.training.seed) });
  const more = await extra();
  run.status = "completed";
  if (more !== null) run.evaluation = more.json;
  await writeRunFile(out, run);
  output.result(
    () => ({
      run: out,
      status: run.status,
      step: run.step,
      totalSteps: run.totalSteps,
      loss: run.loss,
      resumedFrom: result.resumedFrom,
      adapter: join(out, RUN_FILES.adapter),
      checkpoint: result.checkpoint,
      ...(more === null ? {} : { evaluation: more.json }),
    }),
    () =>
      renderFields(
        [
          ["run", out],
          [
            "steps",
            `${run.step} of ${run.totalSteps}${result.resumedFrom === null ? "" : ` (resumed from ${result.resumedFrom})`}`,
          ],
          ["loss", run.loss === null ? "-" : run.loss.toFixed(4)],
          ["adapter", `${join(out, RUN_FILES.adapter)} + ${RUN_FILES.adapterTensors}`],
          ["checkpoint", result.checkpoint ?? "-"],
          ["metrics", join(out, RUN_FILES.metrics)],
          ...(more?.fields ?? []),
        ],
        (t) => output.style("bold", t),
      ),
  );
}
