import { join } from "node:path";
import {
  countTrainable,
  disposeModel,
  gateValues,
  type TrainingMethod as Method,
  prepareModel,
  type Task,
} from "@kora/finetune";

import { loadModel, openBackbone } from "@kora/finetune/node";
import { KoraError, parseAdapterSpec } from "@kora/spec";
import type { AdapterHandle } from "@kora/tfjs";
import type { ViT } from "@kora/vit";
import type { TrainingMethod } from "../config/schema";
import { type BackboneInfo, backboneSource } from "./backbone";
import type { GateTrajectory } from "./training";

/** A freshly built model for a run: the pretrained backbone, the method's adapter, and the task's head. */
export interface RunModel {
  vit: ViT;
  handle: AdapterHandle | null;
  method: TrainingMethod;
}

/** Where a run leaves its trained model (a `@kora/finetune` model folder), for transfer and CKA runs. */
export function artifactDir(out: string, key: string): string {
  return join(out, "artifacts", key);
}

/** A run's resumable checkpoint folder (removed when the run completes). */
export function checkpointDir(out: string, key: string): string {
  return join(out, "checkpoints", key);
}

/** The experiment file's method as `@kora/finetune` takes it (the adapter spec parsed, defaults filled in). */
export function finetuneMethod(method: TrainingMethod): Method {
  switch (method.kind) {
    case "adapter":
      return { kind: "adapter", spec: parseAdapterSpec(method.adapter) };
    case "head-only":
    case "full":
      return method;
    default:
      throw new KoraError({
        code: "INVALID_ARGUMENT",
        message: `the ${method.kind} control trains no ViT; it has no fine-tuning method`,
      });
  }
}

/** Builds a run's model: the pretrained backbone, the task's head and the method (`@kora/finetune`'s prepareModel). */
export async function buildModel(
  backbone: BackboneInfo,
  method: TrainingMethod,
  seed: number,
  task: Task,
): Promise<RunModel> {
  const vit = await openBackbone(backboneSource(backbone));
  try {
    const handle = prepareModel(vit, task, finetuneMethod(method), seed);
    return { vit, handle, method };
  } catch (error) {
    disposeModel(vit);
    throw error;
  }
}

/** Rebuilds the trained model a source run saved (same method and seed) onto the task's head. */
export async function loadSourceModel(
  out: string,
  backbone: BackboneInfo,
  request: { sourceKey: string | null; method: TrainingMethod; seed: number },
  task: Task,
): Promise<RunModel> {
  if (request.sourceKey === null) {
    throw new KoraError({ code: "INVALID_ARGUMENT", message: "this run needs a source run and has none" });
  }
  const model = await buildModel(backbone, request.method, request.seed, task);
  try {
    await loadModel(model.vit, artifactDir(out, request.sourceKey));
  } catch (error) {
    disposeModel(model.vit);
    if (KoraError.isInstance(error) && error.code === "FILE_NOT_FOUND") {
      throw new KoraError({
        code: "FILE_NOT_FOUND",
        message: `the source model ${artifactDir(out, request.sourceKey)} is missing (its run failed or was removed)`,
        cause: error,
      });
    }
    if (KoraError.isInstance(error)) {
      // A damaged model folder fails every run that loads it, on every rerun, while the source run counts as done:
      // say what to remove so that the source run trains it again.
      throw new KoraError({
        code: error.code,
        message: `the source model ${artifactDir(out, request.sourceKey)} cannot be loaded (${error.message}); remove it and ${join(out, "runs", `${request.sourceKey}.json`)}, then run again to train it anew`,
        ...(error.path === undefined ? {} : { path: error.path }),
        cause: error,
      });
    }
    throw error;
  }
  return model;
}

/** Parameters tuned (%) as peft prints it: trainable ÷ all parameters of the adapted model. */
export function paramsTunedPct(method: TrainingMethod, vit: ViT): number {
  return countTrainable(vit, finetuneMethod(method)).fraction * 100;
}

/** One learnable gate where a run ended (KoRA and the gated twins), as every run's `extra.gates` records it. */
export interface RecordedGate {
  block: number;
  name: string;
  mean: number;
  absMean: number;
}

/** Where each learnable gate of the model ended; empty for methods without gates. */
export function recordedGates(vit: ViT): RecordedGate[] {
  return gateValues(vit).map((g) => ({ block: g.block, name: g.name, mean: g.mean, absMean: g.absMean }));
}

/**
 * A trained run's gates for its `extra`: where they ended (`gates`, empty without gates) and, when they trained,
 * the path there (`gateTrajectory`). Every training task records them the same way.
 */
export function gateRecord(
  vit: ViT,
  trained: { gateTrajectory: GateTrajectory | null },
): { gates: RecordedGate[]; gateTrajectory?: GateTrajectory } {
  const gates = recordedGates(vit);
  return trained.gateTrajectory === null ? { gates } : { gates, gateTrajectory: trained.gateTrajectory };
}
