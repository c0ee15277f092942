import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { KoraError, readSafetensors, writeSafetensors } from "@kora/spec";
import { writeFileAtomic } from "@kora/spec/node";
import { type AdapterHandle, applyAdapters } from "@kora/tfjs";
import { loadAdapter, saveAdapter } from "@kora/tfjs/node";
import { createViT, DepthHead, VIT_PRESETS, type ViT } from "@kora/vit";
import { loadViT } from "@kora/vit/node";
import * as tf from "@tensorflow/tfjs";
import { UsageError } from "../support/errors";
import { didYouMean } from "../support/suggest";
import {
  type BackboneReference,
  describeBackbone,
  type HeadDescription,
  RUN_FILES,
  type RunFile,
  readRunFile,
} from "./run-file";

/** Name of the adapter a run trains. */
export const ADAPTER_NAME = "default";

const PRESET_NAMES = Object.keys(VIT_PRESETS);

/** Checks a preset name (exit 2 with a suggestion when unknown). */
export function checkPreset(name: string, flag = "--backbone"): void {
  if (!Object.hasOwn(VIT_PRESETS, name)) {
    throw new UsageError(
      `${flag}: unknown preset "${name}", expected one of ${PRESET_NAMES.join(", ")}${didYouMean(name, PRESET_NAMES)}`,
    );
  }
}

/**
 * The backbone a reference names, with a fresh head: a classification head for `head.classes` classes, or a depth
 * head. A preset is initialised from the reference's seed (the same weights on every run), a checkpoint is loaded.
 */
export async function buildViT(
  reference: BackboneReference,
  head: HeadDescription,
  seed: number,
): Promise<ViT> {
  const numClasses = head.kind === "classification" ? head.classes : 0;
  const vit =
    "preset" in reference
      ? createViT(
          { preset: reference.preset as keyof typeof VIT_PRESETS, numClasses },
          { seed: reference.seed },
        )
      : await loadViT(reference.weights, reference.config, { numClasses, seed });
  if (head.kind === "depth") {
    const { dim, patchSize, imageSize } = vit.config;
    vit.setHead(new DepthHead({ dim, patchSize, imageSize }, { seed }));
  }
  return vit;
}

/**
 * A checksum of the backbone's weights (Σ|w| over every backbone variable, accumulated in float64), stored in
 * `run.json` so a run is never evaluated or resumed on other weights than it was trained on.
 */
export function backboneChecksum(vit: ViT): number {
  let sum = 0;
  for (const variable of vit.backboneVariables()) {
    sum += tf.tidy(() => tf.sum(tf.abs(variable)).dataSync()[0]!);
  }
  return sum;
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

/** The forward pass a run trains and evaluates: logits, or depth in metres (`exp` of the head's output). */
export function predict(vit: ViT, images: tf.Tensor4D, training: boolean): tf.Tensor {
  const out = vit.forward(images, { format: "NHWC", training });
  if (out.logits !== null) return out.logits;
  // The depth head's output is read as log-depth (clipped to e^±6 m so a diverging step stays finite).
  return tf.exp(tf.clipByValue(out.depth!, -6, 6));
}

/**
 * Writes the run's final adapter at the top of `dir` (`adapter.json` + `adapter.safetensors`, the classification
 * head included), and a depth head, which is not a linear head `@kora/spec` can store, as `head.safetensors`.
 */
export async function saveRunAdapter(vit: ViT, dir: string, metadata: Record<string, string>): Promise<void> {
  await saveAdapter(vit, dir, { name: ADAPTER_NAME, metadata });
  if (vit.head?.kind === "depth") {
    const tensors: Record<string, { dtype: "F32"; shape: number[]; data: Float32Array }> = {};
    for (const parameter of vit.head.namedParameters()) {
      tensors[parameter.name] = {
        dtype: "F32",
        shape: [...parameter.variable.shape],
        data: parameter.variable.dataSync() as Float32Array,
      };
    }
    // TODO(@kora/spec): the adapter format stores linear classification heads only; a depth head is kept beside it
    // in the tfjs layout of its variables.
    await writeFileAtomic(join(dir, RUN_FILES.head), writeSafetensors(tensors, { layout: "tfjs" }));
  }
}

/** A run's model rebuilt: backbone, trained adapter and head. */
export interface RunModel {
  run: RunFile;
  vit: ViT;
  handle: AdapterHandle;
}

/**
 * Rebuilds the model of a run folder: the backbone from its reference, then the final adapter (and head) from
 * `adapter.json` / `adapter.safetensors` (and `head.safetensors` for a depth run).
 */
export async function openRunModel(dir: string, flag = "--run"): Promise<RunModel> {
  const run = await readRunFile(dir, flag);
  const vit = await buildViT(run.backbone, run.head, run.training.seed);
  try {
    checkBackbone(vit, run, `${flag} ${dir}`);
    let handle: AdapterHandle;
    try {
      handle = await loadAdapter(vit, dir, { name: ADAPTER_NAME });
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
    if (run.head.kind === "depth") {
      const { tensors } = readSafetensors(new Uint8Array(await readFile(join(dir, RUN_FILES.head))));
      for (const parameter of vit.head!.namedParameters()) {
        const tensor = tensors[parameter.name];
        if (tensor === undefined || tensor.shape.join() !== parameter.variable.shape.join()) {
          throw new KoraError({
            code: "INVALID_ADAPTER_FILE",
            message: `${join(dir, RUN_FILES.head)}: ${parameter.name} is missing or has the wrong shape`,
          });
        }
        const value = tensor.data as Float32Array;
        tf.tidy(() => parameter.variable.assign(tf.tensor(value, tensor.shape)));
      }
    }
    return { run, vit, handle };
  } catch (error) {
    vit.dispose();
    throw error;
  }
}

/** Attaches a fresh adapter for training (the backbone frozen, the head trained). */
export function attachAdapter(vit: ViT, spec: RunFile["spec"], seed: number): AdapterHandle {
  return applyAdapters(vit, spec, { name: ADAPTER_NAME, seed });
}
