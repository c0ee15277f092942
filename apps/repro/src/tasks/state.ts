import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { KoraError, readSafetensors, type SafetensorsTensorInput, writeSafetensors } from "@kora/spec";
import { getAdapterHandle } from "@kora/tfjs";
import type { ViT } from "@kora/vit";
import * as tf from "@tensorflow/tfjs";

/**
 * Every variable of an (adapted) model under a stable name: the ViT's Hugging Face names (backbone and head) and
 * `adapter.<name>` for the active adapter's tensors, in the tfjs layout (a private format: only this app reads it).
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

/** Writes variables to a safetensors file atomically (temporary file + rename). */
export function saveVariables(path: string, variables: ReadonlyMap<string, tf.Variable>): void {
  const tensors: Record<string, SafetensorsTensorInput> = {};
  for (const [name, variable] of variables) {
    tensors[name] = {
      dtype: "F32",
      shape: [...variable.shape],
      data: Float32Array.from(variable.dataSync()),
    };
  }
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, writeSafetensors(tensors));
  renameSync(temporary, path);
}

/**
 * Assigns the tensors of a file written by {@link saveVariables} to the variables of the same names; `only`
 * restricts which names are read (e.g. skip the head). Every requested name must be in the file.
 */
export function loadVariables(
  path: string,
  variables: ReadonlyMap<string, tf.Variable>,
  only: (name: string) => boolean = () => true,
): void {
  const { tensors } = readSafetensors(new Uint8Array(readFileSync(path)), { asFloat32: true });
  for (const [name, variable] of variables) {
    if (!only(name)) continue;
    const tensor = tensors[name];
    if (tensor === undefined) {
      throw new KoraError({ code: "WEIGHTS_MISMATCH", message: `${path} has no tensor "${name}"` });
    }
    if (tensor.shape.join(",") !== variable.shape.join(",")) {
      throw new KoraError({
        code: "WEIGHTS_MISMATCH",
        message: `${path}: "${name}" is [${tensor.shape.join(", ")}], the model wants [${variable.shape.join(", ")}]`,
      });
    }
    tf.tidy(() => variable.assign(tf.tensor(tensor.data as Float32Array, variable.shape, "float32")));
  }
}
