import { existsSync } from "node:fs";
import { join } from "node:path";
import { stratifiedSubset } from "@kora/datasets";
import { classificationTask, disposeModel, headSeed } from "@kora/finetune";
import { KoraError } from "@kora/spec";
import type { Output } from "../output/context";
import { formatInteger } from "../output/table";
import { evaluationSplit, openDatasetSplit } from "../run/data";
import { evaluateModel } from "../run/evaluation";
import type { BackendInputs, OptimisationInputs } from "../run/experiment";
import { runFingerprint } from "../run/fingerprint";
import { finishRun, parameterLine, recordFailure } from "../run/finish-run";
import { fit } from "../run/fit";
import { openRunModel } from "../run/model";
import { prepareOutputFolder, removeCreatedFolders } from "../run/output-folder";
import { withoutUnrecorded } from "../run/resume-flags";
import { RUN_FILES, type RunFile, readRunFile, writeRunFile } from "../run/run-file";
import { lockRunFolder } from "../run/run-lock";
import { checkRunSize, trainSettings } from "../run/train-settings";
import { useBackend } from "../support/backend";
import { UsageError } from "../support/errors";
import { checkNoForeignFiles } from "./train-run";

/** Options of `kora transfer`, as commander parses them. */
export interface TransferOptions extends BackendInputs, OptimisationInputs {
  from: string;
  dataset: string;
  root?: string;
  fraction?: number;
  perClass?: number;
  out: string;
  resume?: boolean;
  evalBatchSize: number;
  evalLimit?: number;
}

/** Runs `kora transfer`. */
export async function runTransfer(options: TransferOptions, output: Output): Promise<void> {
  if (options.fraction !== undefined && options.perClass !== undefined) {
    throw new UsageError("give --fraction or --per-class, not both");
  }
  const { created } = await prepareOutputFolder(options.out);
  const lock = await lockRunFolder(options.out, "transfer", (note) => output.note(note, true));
  let failed = true;
  try {
    await transferLocked(options, output);
    failed = false;
  } finally {
    await lock.release();
    if (failed) await removeCreatedFolders(created);
  }
}

async function transferLocked(options: TransferOptions, output: Output): Promise<void> {
  if (options.resume !== true) checkNoForeignFiles(options.out);
  if (existsSync(join(options.out, RUN_FILES.run)) && options.resume !== true) {
    throw new KoraError({
      code: "RUN_EXISTS",
      message: `--out: ${options.out} already holds a run (${RUN_FILES.run}); continue it with --resume or choose another folder`,
    });
  }
  // A resumed run keeps run.json's unrecorded settings unrecorded, so its checkpoints' fingerprint still matches.
  const recorded =
    options.resume === true && existsSync(join(options.out, RUN_FILES.run))
      ? (await readRunFile(options.out, "--out")).training
      : undefined;
  const settings =
    recorded === undefined
      ? trainSettings(options, 1)
      : withoutUnrecorded(trainSettings(options, 1), recorded);
  await useBackend(options, output);
  const target = await openDatasetSplit({ name: options.dataset, root: options.root, split: "train" });
  if (target.task !== "classification") {
    throw new UsageError(
      `--dataset: transfer trains a classification head; ${target.name} is a ${target.task} dataset`,
    );
  }
  const { run: source, vit } = await openRunModel(options.from, "--from");
  try {
    if (source.task !== "classification") {
      throw new UsageError(
        `--from: ${options.from} is a ${source.task} run; transfer needs a classification run`,
      );
    }
    // A new head for the target classes; the source head is dropped, the adapter keeps its trained weights.
    const task = classificationTask({ classes: target.classes.length });
    vit.setHead(task.createHead(vit.config, headSeed(settings.seed)));
    const subset = Int32Array.from(
      stratifiedSubset(target, {
        ...(options.perClass === undefined
          ? { fraction: options.fraction ?? 0.01 }
          : { perClass: options.perClass }),
        seed: settings.seed,
      }),
    );
    checkRunSize(settings, subset.length, `the ${target.name} subset`);
    const run: RunFile = {
      format: "kora-run",
      version: 1,
      kora: "",
      command: "transfer",
      task: "classification",
      backbone: source.backbone,
      ...(source.backboneChecksum === undefined ? {} : { backboneChecksum: source.backboneChecksum }),
      head: { kind: "classification", classes: target.classes.length },
      dataset: {
        name: target.name,
        ...(options.root === undefined ? {} : { root: options.root }),
        split: "train",
        examples: subset.length,
        classes: [...target.classes],
        ...(options.perClass === undefined ? { fraction: options.fraction ?? 0.01 } : {}),
      },
      spec: source.spec,
      training: settings,
      totalSteps: 0,
      from: options.from,
      status: "running",
      step: 0,
      loss: null,
      started: new Date().toISOString(),
      updated: "",
    };
    output.note(
      `kora transfer: ${source.spec.method} from ${options.from} to ${target.name}: ${formatInteger(subset.length)} of ${formatInteger(target.size)} training examples (${target.classes.length} classes); ${parameterLine(source.spec, vit)}`,
    );
    await writeRunFile(options.out, run);
    const fingerprint = await runFingerprint(run);
    const outcome = await recordFailure(run, options.out, "transfer", () =>
      fit({
        vit,
        task,
        dataset: target,
        indices: subset,
        settings,
        runDir: options.out,
        resume: options.resume === true,
        output,
        label: "transfer",
        fingerprint,
        onWarning: async (warning) => {
          run.warnings = [...(run.warnings ?? []), { ...warning, at: new Date().toISOString() }];
          await writeRunFile(options.out, run);
        },
      }),
    );
    await finishRun(run, outcome, options.out, vit, output, "transfer", async () => {
      const test = await openDatasetSplit({
        name: target.name,
        root: options.root,
        split: evaluationSplit(target.name),
      });
      const report = await evaluateModel({ vit, task }, test, {
        batchSize: options.evalBatchSize,
        limit: options.evalLimit,
        output,
      });
      if (report.task !== "classification") throw new Error("unreachable: transfer evaluates a classifier");
      return {
        json: report,
        fields: [
          ["evaluated", `${target.name} ${report.split}, ${formatInteger(report.examples)} examples`],
          ["accuracy", report.accuracy.toFixed(4)],
          ["macro-F1", report.macroF1.toFixed(4)],
        ],
      };
    });
  } finally {
    disposeModel(vit);
  }
}
