import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Dataset } from "@kora/datasets";
import { backboneChecksum, depthTask, disposeModel, medianDepth } from "@kora/finetune";
import { type AdapterSpec, KoraError } from "@kora/spec";
import type { Output } from "../output/context";
import { formatInteger } from "../output/table";
import { openDatasetSplit } from "../run/data";
import { mergeInputs, readExperiment, type TrainInputs } from "../run/experiment";
import { runFingerprint } from "../run/fingerprint";
import { finishRun, parameterLine, recordFailure } from "../run/finish-run";
import { fit } from "../run/fit";
import { buildRunModel, checkBackbone } from "../run/model";
import { prepareOutputFolder, removeCreatedFolders } from "../run/output-folder";
import { resumeDifferences, resumedSettings } from "../run/resume-flags";
import {
  type BackboneReference,
  describeBackbone,
  type HeadDescription,
  RUN_FILES,
  type RunFile,
  readRunFile,
  writeRunFile,
} from "../run/run-file";
import { lockRunFolder } from "../run/run-lock";
import { checkRunSize, trainSettings } from "../run/train-settings";
import { adapterSpec, backboneReference } from "../run/train-source";
import { useBackend } from "../support/backend";
import { UsageError } from "../support/errors";

/**
 * The head a dataset needs. A depth head starts at the training data's median depth (`@kora/finetune`'s
 * `medianDepth` over the valid range of the depth task), as the reproduction harness starts it.
 */
export function headFor(dataset: Dataset, indices?: ArrayLike<number>): HeadDescription {
  if (dataset.task === "classification") return { kind: "classification", classes: dataset.classes.length };
  if (dataset.task === "segmentation") {
    throw new UsageError(
      `${dataset.name} is a segmentation dataset; kora train trains classification or depth`,
    );
  }
  const range = depthTask().depthRange;
  return { kind: "depth", initialDepth: medianDepth(dataset, { indices, range }) };
}

/** Options of `kora train`, as commander parses them (no defaults here: an experiment file may supply them). */
export interface TrainOptions extends TrainInputs {
  experiment?: string;
  resume?: boolean;
}

/** Files of a run folder that a new run writes: one of them without a `run.json` is someone else's file. */
const RUN_OUTPUTS = [
  RUN_FILES.model,
  RUN_FILES.adapter,
  RUN_FILES.adapterTensors,
  RUN_FILES.head,
  RUN_FILES.metrics,
  RUN_FILES.checkpoints,
];

/**
 * Refuses a folder that holds files a run would replace but no `run.json`: kora did not write them (or not as a
 * run), so it will not overwrite them.
 */
export function checkNoForeignFiles(out: string): void {
  if (existsSync(join(out, RUN_FILES.run))) return;
  const found = RUN_OUTPUTS.filter((name) => existsSync(join(out, name)));
  if (found.length > 0) {
    throw new KoraError({
      code: "OUTPUT_EXISTS",
      message: `--out: ${out} holds ${found.join(", ")} but no ${RUN_FILES.run}: not a kora run folder, and kora does not replace files it did not write; choose another --out`,
    });
  }
}

/** Runs `kora train`. */
export async function runTrain(options: TrainOptions, output: Output): Promise<void> {
  const { experiment, resume, ...flags } = options;
  const inputs: TrainInputs =
    experiment === undefined ? flags : mergeInputs(await readExperiment(experiment), flags);
  const out = inputs.out;
  if (out === undefined) throw new UsageError("give --out RUN_DIR (the run folder to write)");
  const { created } = await prepareOutputFolder(out);
  // One writer per run folder: a second `kora train` into it fails here, before reading or writing anything.
  const lock = await lockRunFolder(out, "train", (note) => output.note(note, true));
  let failed = true;
  try {
    await trainLocked(out, inputs, flags, resume, output);
    failed = false;
  } finally {
    await lock.release();
    if (failed) await removeCreatedFolders(created);
  }
}

async function trainLocked(
  out: string,
  initial: TrainInputs,
  flags: TrainInputs,
  resume: boolean | undefined,
  output: Output,
): Promise<void> {
  let inputs = initial;

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
    const differences = await resumeDifferences(flags, previous);
    if (differences.length > 0) {
      throw new UsageError(
        `--resume continues ${out} as its run.json describes it; only --epochs, --steps, --checkpoint-every, --backend and --threads may change, and these differ from the run: ${differences.join("; ")}`,
      );
    }
    inputs = { ...previous.training, ...flags };
  } else if (resume !== true) {
    checkNoForeignFiles(out);
  } else if (existsSync(join(out, RUN_FILES.checkpoints)) === false) {
    throw new KoraError({
      code: "FILE_NOT_FOUND",
      message: `--resume: ${out} holds no run to resume (no ${RUN_FILES.run})`,
    });
  }

  const settings = previous === null ? trainSettings(inputs, 1) : resumedSettings(previous, flags);
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
  if (dataset.task === "segmentation") {
    // The segmentation task lives in @kora/finetune and the harness (4.5); run files know no segmentation head yet.
    throw new UsageError(
      `${dataset.name} is a segmentation dataset; kora train trains classification or depth`,
    );
  }
  checkRunSize(settings, dataset.size, dataset.name);
  const head = previous?.head ?? headFor(dataset);
  const { vit, task } = await buildRunModel(backbone, head, spec, settings.seed);
  try {
    if (previous !== null) checkBackbone(vit, previous, `--resume ${out}`);
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
      ...(previous?.warnings === undefined ? {} : { warnings: previous.warnings }),
    };
    // The seed only when this command line (or its experiment file) gave one.
    const seedGiven = (previous === null ? inputs : flags).seed;
    output.note(
      `kora train: ${spec.method} on ${describeBackbone(backbone)}${seedGiven === undefined ? "" : ` (seed ${seedGiven})`}, ${dataset.name} (${formatInteger(dataset.size)} examples); ${parameterLine(spec, vit)}`,
    );
    await writeRunFile(out, run);
    const fingerprint = await runFingerprint(run);
    const outcome = await recordFailure(run, out, "train", () =>
      fit({
        vit,
        task,
        dataset,
        settings,
        runDir: out,
        resume: resume === true,
        output,
        label: "train",
        fingerprint,
        onWarning: async (warning) => {
          run.warnings = [...(run.warnings ?? []), { ...warning, at: new Date().toISOString() }];
          await writeRunFile(out, run);
        },
      }),
    );
    await finishRun(run, outcome, out, vit, output, "train");
  } finally {
    disposeModel(vit);
  }
}
