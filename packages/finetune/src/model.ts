import { type AdapterSpec, countParameters, hashSeed } from "@kora/spec";
import { type AdapterHandle, applyAdapters, getAdapterHandle, removeAdapters } from "@kora/tfjs";
import type { ViT } from "@kora/vit";
import type * as tf from "@tensorflow/tfjs";
import type { Task } from "./tasks/task";

/** Name under which the workflow attaches, saves and loads its adapter. */
export const ADAPTER_NAME = "default";

/** How a run trains: an adapter on the frozen backbone, the head alone, or everything. */
export type TrainingMethod =
  | { kind: "adapter"; spec: AdapterSpec }
  | { kind: "head-only" }
  | { kind: "full" };

/**
 * Seed of a task's fresh head for a run seed: its own stream, so the head does not draw the same numbers as the
 * adapter or the data order of that seed.
 */
export function headSeed(seed: number): number {
  return hashSeed(seed, "head");
}

/**
 * Prepares a backbone for a run: the task's fresh head (seeded from `seed`, see {@link headSeed}), then the
 * method — an adapter attached as {@link ADAPTER_NAME} (which freezes the backbone), a frozen backbone, or an
 * unfrozen one. Returns the adapter handle, or `null` without an adapter.
 */
export function prepareModel(
  vit: ViT,
  task: Task,
  method: TrainingMethod,
  seed: number,
): AdapterHandle | null {
  vit.setHead(task.createHead(vit.config, headSeed(seed)));
  switch (method.kind) {
    case "adapter":
      return applyAdapters(vit, method.spec, { name: ADAPTER_NAME, seed });
    case "head-only":
      vit.setBackboneTrainable(false);
      return null;
    case "full":
      vit.setBackboneTrainable(true);
      return null;
  }
}

/**
 * Every variable of an (adapted) model under a stable name: the ViT's Hugging Face names (backbone and head) and
 * `adapter.<name>` for the active adapter's tensors. Checkpoints store variables under these names.
 */
export function modelVariables(vit: ViT): Map<string, tf.Variable> {
  const out = new Map<string, tf.Variable>();
  for (const parameter of vit.namedParameters()) out.set(parameter.name, parameter.variable);
  const handle = getAdapterHandle(vit);
  if (handle !== undefined && handle.activeAdapter !== null) {
    for (const [name, variable] of handle.adapterVariables()) out.set(`adapter.${name}`, variable);
  }
  return out;
}

/** The variables that train: the trainable ones of {@link modelVariables} (adapter, head, and a thawed backbone). */
export function trainableVariables(vit: ViT): Record<string, tf.Variable> {
  const out: Record<string, tf.Variable> = {};
  for (const [name, variable] of modelVariables(vit)) if (variable.trainable) out[name] = variable;
  return out;
}

/**
 * A checksum of the backbone's weights (Σ|w| over every backbone variable, accumulated in float64): stored beside a
 * saved model so it is never evaluated or resumed on other weights than it was trained on.
 */
export function backboneChecksum(vit: ViT): number {
  let sum = 0;
  for (const variable of vit.backboneVariables()) {
    const values = variable.dataSync();
    for (let i = 0; i < values.length; i++) sum += Math.abs(values[i]!);
  }
  return sum;
}

/** What {@link countTrainable} returns. */
export interface TrainableCount {
  trainable: number;
  total: number;
  /** `trainable / total` (peft's "trainable%" ÷ 100). */
  fraction: number;
}

/**
 * Trainable and total parameters of a prepared model, as peft counts them (`@kora/spec`'s exact counts): the
 * adapter and the head, plus the backbone for full fine-tuning. A depth head, which `countParameters` does not
 * know, is added from its variables.
 */
export function countTrainable(vit: ViT, method: TrainingMethod): TrainableCount {
  const count = countParameters(method.kind === "adapter" ? method.spec : null, vit.backboneShape, {
    trainHead: true,
    trainBackbone: method.kind === "full",
  });
  const depthHead = vit.head?.kind === "depth" ? vit.headVariables().reduce((n, v) => n + v.size, 0) : 0;
  const trainable = count.trainable + depthHead;
  const total = count.total + depthHead;
  return { trainable, total, fraction: trainable / total };
}

/**
 * Frees a model and everything attached to it: the adapters (whose variables `ViT.dispose` does not own) and then
 * the backbone and head.
 */
export function disposeModel(vit: ViT): void {
  removeAdapters(vit);
  vit.dispose();
}
