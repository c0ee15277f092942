import {
  ADAPTER_NAME,
  backboneChecksum,
  classificationTask,
  depthTask,
  disposeModel,
  prepareModel,
  type Task,
} from "@kora/finetune";
import { loadModel, openBackbone, saveModel } from "@kora/finetune/node";
import { type AdapterSpec, didYouMean, KoraError } from "@kora/spec";
import type { AdapterHandle } from "@kora/tfjs";
import { VIT_PRESETS, type ViT } from "@kora/vit";
import { UsageError } from "../support/errors";
import {
  type BackboneReference,
  describeBackbone,
  type HeadDescription,
  type RunFile,
  readRunFile,
} from "./run-file";

export { ADAPTER_NAME };

const PRESET_NAMES = Object.keys(VIT_PRESETS);

/** Checks a preset name (exit 2 with a suggestion when unknown). */
export function checkPreset(name: string, flag = "--backbone"): void {
  if (!Object.hasOwn(VIT_PRESETS, name)) {
    throw new UsageError(
      `${flag}: unknown preset "${name}", expected one of ${PRESET_NAMES.join(", ")}${didYouMean(name, PRESET_NAMES)}`,
    );
  }
}

/** The `@kora/finetune` task of a run's head: its one loss and one decoding. */
export function taskFor(head: HeadDescription): Task {
  return head.kind === "classification"
    ? classificationTask({ classes: head.classes })
    : depthTask(head.initialDepth === undefined ? {} : { initialDepth: head.initialDepth });
}

/**
 * The model of a run: the backbone its reference names, the head of its task and its adapter, fresh, from `seed`
 * (`@kora/finetune`'s `prepareModel`, as the reproduction harness builds its models).
 */
export async function buildRunModel(
  reference: BackboneReference,
  head: HeadDescription,
  spec: AdapterSpec,
  seed: number,
): Promise<{ vit: ViT; handle: AdapterHandle; task: Task }> {
  const vit = await openBackbone(
    "preset" in reference
      ? { preset: reference.preset as keyof typeof VIT_PRESETS, seed: reference.seed }
      : reference,
  );
  const task = taskFor(head);
  try {
    const handle = prepareModel(vit, task, { kind: "adapter", spec }, seed)!;
    return { vit, handle, task };
  } catch (error) {
    disposeModel(vit);
    throw error;
  }
}

/** Throws `BACKBONE_MISMATCH` when the rebuilt backbone is not the one the run recorded. */
export function checkBackbone(vit: ViT, run: RunFile, where: string): void {
  if (run.backboneChecksum === undefined) return;
  const now = backboneChecksum(vit);
  if (Math.abs(now - run.backboneChecksum) > 1e-6 * Math.max(1, Math.abs(run.backboneChecksum))) {
    throw new KoraError({
      code: "BACKBONE_MISMATCH",
      message: `${where}: the backbone rebuilt from ${describeBackbone(run.backbone)} is not the one the run was trained on (weights checksum ${now} vs ${run.backboneChecksum}); was the weights file changed?`,
    });
  }
}

/** Writes the run's final model at the top of `dir` (`@kora/finetune`'s model folder: adapter, head, manifest). */
export async function saveRunModel(vit: ViT, dir: string, metadata: Record<string, string>): Promise<void> {
  await saveModel(vit, dir, { metadata });
}

/** A run's model rebuilt: backbone, trained adapter and head. */
export interface RunModel {
  run: RunFile;
  vit: ViT;
  handle: AdapterHandle;
  task: Task;
}

/** Rebuilds the model of a run folder: the backbone from its reference, then the saved adapter and head. */
export async function openRunModel(dir: string, flag = "--run"): Promise<RunModel> {
  const run = await readRunFile(dir, flag);
  const { vit, handle, task } = await buildRunModel(run.backbone, run.head, run.spec, run.training.seed);
  try {
    checkBackbone(vit, run, `${flag} ${dir}`);
    try {
      await loadModel(vit, dir);
    } catch (error) {
      if (KoraError.isInstance(error) && error.code === "FILE_NOT_FOUND" && run.status !== "completed") {
        throw new KoraError({
          code: "RUN_INCOMPLETE",
          message: `${flag}: ${dir} has no final adapter yet (the run is ${run.status} at step ${run.step}); finish it with 'kora train --resume --out ${dir}'`,
          cause: error,
        });
      }
      throw error;
    }
    return { run, vit, handle, task };
  } catch (error) {
    disposeModel(vit);
    throw error;
  }
}
