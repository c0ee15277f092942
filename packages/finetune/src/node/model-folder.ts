import { join } from "node:path";
import { readSafetensors, type SafetensorsTensorInput, writeSafetensors } from "@kora/spec";
import { readFileBytes, writeFileAtomic } from "@kora/spec/node";
import { getAdapterHandle } from "@kora/tfjs";
import { loadAdapter, saveAdapter } from "@kora/tfjs/node";
import type { ViT } from "@kora/vit";
import * as tf from "@tensorflow/tfjs";
import { finetuneError } from "../errors";
import { ADAPTER_NAME } from "../model";
import { MODEL_FILES, type ModelManifest } from "../model-files";

/** Options of {@link saveModel}. */
export interface SaveModelOptions {
  /** String metadata for `model.json` and the adapter file (dataset, seed, …). */
  metadata?: Record<string, string>;
  /** Store the backbone too. Default: when any backbone variable is trainable (full fine-tuning). */
  backbone?: boolean;
}

function headDescription(vit: ViT): ModelManifest["head"] {
  const head = vit.head;
  if (head === null) return null;
  if (head.kind === "depth") return { kind: "depth" };
  return { kind: "classification", classes: vit.config.numClasses };
}

function tensorsOf(
  parameters: { name: string; variable: tf.Variable }[],
): Record<string, SafetensorsTensorInput> {
  const tensors: Record<string, SafetensorsTensorInput> = {};
  for (const { name, variable } of parameters) {
    tensors[name] = {
      dtype: "F32",
      shape: [...variable.shape],
      data: Float32Array.from(variable.dataSync()),
    };
  }
  return tensors;
}

/**
 * Saves everything a fine-tuned model adds to its backbone, in one folder, one way for every app:
 *
 * - `adapter.json` + `adapter.safetensors`: the adapter (`@kora/spec`'s adapter format, PyTorch layout), with a
 *   linear classification head inside as that format allows;
 * - `head.safetensors`: companion file for a head the adapter format cannot hold — a depth head, or any head when
 *   there is no adapter — under the model's Hugging Face names, tfjs layout (metadata `layout: "tfjs"`);
 * - `backbone.safetensors`: companion file with every backbone variable (same naming and layout) when the backbone
 *   itself trained;
 * - `model.json`: which of these are there, and the head they fit.
 *
 * An untrained backbone is not copied: the folder is loaded onto the same backbone (see {@link loadModel}). Every
 * file is written atomically. Node only.
 */
export async function saveModel(
  vit: ViT,
  dir: string,
  options: SaveModelOptions = {},
): Promise<ModelManifest> {
  const metadata = options.metadata ?? {};
  const handle = getAdapterHandle(vit);
  const adapter = handle?.adapterNames.includes(ADAPTER_NAME) === true;
  let headInAdapter = false;
  if (adapter) {
    const manifest = await saveAdapter(vit, dir, { name: ADAPTER_NAME, metadata });
    headInAdapter = manifest.includesHead === true;
  }
  const headFile = vit.head !== null && !headInAdapter;
  if (headFile) {
    const tensors = tensorsOf(vit.head!.namedParameters());
    await writeFileAtomic(
      join(dir, MODEL_FILES.head),
      writeSafetensors(tensors, { layout: "tfjs", ...metadata }),
    );
  }
  const backboneFile = options.backbone ?? vit.backboneVariables().some((variable) => variable.trainable);
  if (backboneFile) {
    const backboneNames = new Set(vit.backboneVariables());
    const parameters = vit.namedParameters().filter((p) => backboneNames.has(p.variable));
    await writeFileAtomic(
      join(dir, MODEL_FILES.backbone),
      writeSafetensors(tensorsOf(parameters), { layout: "tfjs", ...metadata }),
    );
  }
  const manifest: ModelManifest = {
    format: "kora-model",
    version: 1,
    head: headDescription(vit),
    adapter,
    headInAdapter,
    headFile,
    backboneFile,
    metadata,
  };
  await writeFileAtomic(
    join(dir, MODEL_FILES.manifest),
    new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`),
  );
  return manifest;
}

/** Reads and checks a model folder's `model.json`. */
export async function readModelManifest(dir: string): Promise<ModelManifest> {
  const path = join(dir, MODEL_FILES.manifest);
  const bytes = await readFileBytes(path, "model manifest");
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw finetuneError(
      "INVALID_MODEL_FILE",
      `${path} is not valid JSON (${(error as Error).message})`,
      path,
      error,
    );
  }
  const manifest = value as Partial<ModelManifest> | null;
  if (manifest === null || typeof manifest !== "object" || manifest.format !== "kora-model") {
    throw finetuneError("INVALID_MODEL_FILE", `${path}: not a model manifest (format "kora-model")`, path);
  }
  if (manifest.version !== 1) {
    throw finetuneError(
      "INVALID_MODEL_FILE",
      `${path}: version ${String(manifest.version)} is not supported (this package reads version 1)`,
      path,
    );
  }
  return manifest as ModelManifest;
}

async function assignFile(
  path: string,
  parameters: { name: string; variable: tf.Variable }[],
): Promise<void> {
  const { tensors } = readSafetensors(await readFileBytes(path, "model file"), { asFloat32: true });
  for (const { name, variable } of parameters) {
    const tensor = tensors[name];
    if (tensor === undefined || tensor.shape.join(",") !== variable.shape.join(",")) {
      throw finetuneError(
        "INVALID_MODEL_FILE",
        `${path}: ${tensor === undefined ? `no tensor "${name}"` : `"${name}" is [${tensor.shape.join(", ")}]`}; the model wants [${variable.shape.join(", ")}]`,
        path,
      );
    }
    tf.tidy(() => variable.assign(tf.tensor(tensor.data as Float32Array, variable.shape, "float32")));
  }
}

/**
 * Loads a folder written by {@link saveModel} onto a model built the same way (same backbone, the task's head):
 * the adapter (attached as `"default"` when missing), the head and a trained backbone.
 *
 * @throws KoraError `FILE_NOT_FOUND` (no `model.json`: not a model folder, or not saved yet), `INVALID_MODEL_FILE`
 * (a tensor missing or of another shape, or a head of another kind), and the adapter format's errors.
 */
export async function loadModel(vit: ViT, dir: string): Promise<ModelManifest> {
  const manifest = await readModelManifest(dir);
  const expected = manifest.head;
  const head = vit.head;
  if ((expected?.kind ?? null) !== (head?.kind ?? null)) {
    throw finetuneError(
      "INVALID_MODEL_FILE",
      `${dir}: the saved model has a ${expected?.kind ?? "missing"} head, the model to load it into a ${head?.kind ?? "missing"} one`,
      dir,
    );
  }
  if (manifest.backboneFile) {
    const backbone = new Set(vit.backboneVariables());
    await assignFile(
      join(dir, MODEL_FILES.backbone),
      vit.namedParameters().filter((p) => backbone.has(p.variable)),
    );
  }
  if (manifest.adapter) await loadAdapter(vit, dir, { name: ADAPTER_NAME });
  if (manifest.headFile && head !== null) {
    await assignFile(join(dir, MODEL_FILES.head), head.namedParameters());
  }
  return manifest;
}
