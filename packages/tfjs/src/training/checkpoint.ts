import {
  KoraError,
  readSafetensors,
  type SafetensorsTensor,
  type SafetensorsTensorInput,
  writeSafetensors,
} from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import type { TfjsErrorCode } from "../errors";
import { nodeIo } from "./lazy-modules";
import type { Optimizer, OptimizerStateJson } from "./optimizer";
import { type RandomState, SeededRandom } from "./random";
import { namedVariables, type TrainingVariables } from "./variables";

/** Name of the pointer file naming the latest complete checkpoint of a folder. */
export const LATEST_CHECKPOINT_FILE = "latest.json";
const FORMAT = "kora-checkpoint";
const FORMAT_VERSION = 1;
const PREFIX = "checkpoint-";
const SUFFIX = ".safetensors";
const VARIABLE_PREFIX = "variables/";
const OPTIMIZER_PREFIX = "optimizer/";

/** Where the training loop stands: everything besides tensors that an exact resume needs. */
export interface TrainingPosition {
  /** Optimizer steps completed. */
  step: number;
  /** Current epoch (0-based). */
  epoch: number;
  /** Batches of the current epoch already consumed (a resume skips this many). */
  batchInEpoch: number;
  /** State of the training run's random stream (dropout, augmentation) after `step`. */
  random: RandomState;
  /** The run's seed. */
  seed: number | string;
  /** Optimizer steps per epoch, once an epoch has been seen complete (for ETA); `null` before. */
  stepsPerEpoch: number | null;
}

/** What {@link saveCheckpoint} writes. */
export interface SaveCheckpointInput {
  /** Folder of the run's checkpoints (created if missing). */
  dir: string;
  /** The variables to save (see {@link TrainingVariables}). */
  variables: TrainingVariables;
  /** The optimizer whose state (slots and per-variable steps) is saved. */
  optimizer: Optimizer;
  /** Loop position, data-order position and RNG state. */
  position: TrainingPosition;
  /** Keep only the newest this-many checkpoints (default: keep all). */
  keepLast?: number;
}

/** A checkpoint read back by {@link loadCheckpoint}. */
export interface Checkpoint {
  /** Path of the checkpoint file. */
  path: string;
  /** Loop position, data-order position and RNG state. */
  position: TrainingPosition;
  /** Variable values by name. */
  variables: Record<string, SafetensorsTensor>;
  /** Optimizer state: its JSON part and its tensors by `"<variable>/<slot>"`. */
  optimizer: { json: OptimizerStateJson; tensors: Record<string, SafetensorsTensor> };
}

/** One checkpoint file of a folder, as {@link listCheckpoints} finds it. */
export interface CheckpointEntry {
  /** Optimizer step of the checkpoint. */
  step: number;
  /** Path of the file. */
  path: string;
}

function fileName(step: number): string {
  return `${PREFIX}${String(step).padStart(9, "0")}${SUFFIX}`;
}

async function tensorInput(tensor: tf.Tensor): Promise<SafetensorsTensorInput> {
  if (tensor.dtype === "float32") {
    return { dtype: "F32", shape: tensor.shape, data: new Float32Array(await tensor.data<"float32">()) };
  }
  if (tensor.dtype === "int32") {
    return { dtype: "I32", shape: tensor.shape, data: new Int32Array(await tensor.data<"int32">()) };
  }
  throw new KoraError<TfjsErrorCode>({
    code: "INVALID_ARGUMENT",
    message: `checkpoints hold float32 and int32 tensors, got ${tensor.dtype}`,
  });
}

/**
 * The checkpoints of `dir`, oldest first. Only complete files appear: each is written to a temporary name and
 * renamed, so a half-written file never has a checkpoint name.
 */
export async function listCheckpoints(dir: string): Promise<CheckpointEntry[]> {
  const { fs, path } = await nodeIo();
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const pattern = /^checkpoint-(\d{9,})\.safetensors$/;
  return names
    .map((name) => ({ name, match: pattern.exec(name) }))
    .filter((e) => e.match !== null)
    .map((e) => ({ step: Number(e.match?.[1]), path: path.join(dir, e.name) }))
    .sort((a, b) => a.step - b.step);
}

/**
 * Writes a checkpoint of the variables, the optimizer state and the loop position as one safetensors file
 * (`checkpoint-<step>.safetensors`; the position in its metadata), atomically (temp file + fsync + rename), then
 * atomically points `latest.json` at it, and only then deletes checkpoints beyond the newest `keepLast`. A crash
 * at any moment leaves `latest.json` naming a complete checkpoint. One writer per folder.
 *
 * @returns the path of the new checkpoint.
 */
export async function saveCheckpoint(input: SaveCheckpointInput): Promise<string> {
  const { dir, optimizer, position, keepLast } = input;
  const { fs, path: paths, writeFileAtomic } = await nodeIo();
  if (keepLast !== undefined && !(Number.isInteger(keepLast) && keepLast >= 1)) {
    throw new KoraError<TfjsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `checkpoint.keepLast must be a positive integer, got ${keepLast}`,
      path: "keepLast",
    });
  }
  const tensors: Record<string, SafetensorsTensorInput> = {};
  for (const [name, variable] of namedVariables(input.variables)) {
    tensors[VARIABLE_PREFIX + name] = await tensorInput(variable);
  }
  for (const [name, tensor] of Object.entries(optimizer.stateTensors())) {
    tensors[OPTIMIZER_PREFIX + name] = await tensorInput(tensor);
  }
  const state = { format: FORMAT, version: FORMAT_VERSION, position, optimizer: optimizer.stateJson() };
  const bytes = writeSafetensors(tensors, { [FORMAT]: JSON.stringify(state) });
  const name = fileName(position.step);
  const path = paths.join(dir, name);
  await writeFileAtomic(path, bytes);
  await writeFileAtomic(
    paths.join(dir, LATEST_CHECKPOINT_FILE),
    `${JSON.stringify({ file: name, step: position.step })}\n`,
  );
  if (keepLast !== undefined) {
    const all = await listCheckpoints(dir);
    const stale = all.filter((entry) => entry.path !== path).slice(0, Math.max(0, all.length - keepLast));
    for (const entry of stale) await fs.rm(entry.path, { force: true });
  }
  return path;
}

function corrupt(path: string, message: string, cause?: unknown): KoraError {
  return new KoraError<TfjsErrorCode>({
    code: "INVALID_CHECKPOINT",
    message: `${path}: ${message}`,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Reads one checkpoint file. */
export async function readCheckpoint(path: string): Promise<Checkpoint> {
  const { fs } = await nodeIo();
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await fs.readFile(path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new KoraError<TfjsErrorCode>({
      code: code === "ENOENT" ? "FILE_NOT_FOUND" : "IO_ERROR",
      message: `${path}: cannot read the checkpoint (${code ?? (error as Error).message})`,
      cause: error,
    });
  }
  let contents: ReturnType<typeof readSafetensors>;
  try {
    contents = readSafetensors(bytes);
  } catch (error) {
    throw corrupt(path, "not a valid safetensors file", error);
  }
  const raw = contents.metadata[FORMAT];
  let state: {
    format?: unknown;
    version?: unknown;
    position?: TrainingPosition;
    optimizer?: OptimizerStateJson;
  };
  try {
    state = JSON.parse(raw ?? "null") ?? {};
  } catch (error) {
    throw corrupt(path, `the "${FORMAT}" metadata is not JSON`, error);
  }
  if (state.format !== FORMAT || state.version !== FORMAT_VERSION || !state.position || !state.optimizer) {
    throw corrupt(path, `not a ${FORMAT} version ${FORMAT_VERSION} file`);
  }
  const { position } = state;
  for (const field of ["step", "epoch", "batchInEpoch"] as const) {
    if (!(Number.isInteger(position[field]) && position[field] >= 0)) {
      throw corrupt(path, `position.${field} must be a non-negative integer, got ${position[field]}`);
    }
  }
  try {
    SeededRandom.fromState(position.random);
  } catch (error) {
    throw corrupt(path, "position.random is not a valid random state", error);
  }
  const variables: Record<string, SafetensorsTensor> = {};
  const optimizerTensors: Record<string, SafetensorsTensor> = {};
  for (const [name, tensor] of Object.entries(contents.tensors)) {
    if (name.startsWith(VARIABLE_PREFIX)) variables[name.slice(VARIABLE_PREFIX.length)] = tensor;
    else if (name.startsWith(OPTIMIZER_PREFIX))
      optimizerTensors[name.slice(OPTIMIZER_PREFIX.length)] = tensor;
  }
  return {
    path,
    position: state.position,
    variables,
    optimizer: { json: state.optimizer, tensors: optimizerTensors },
  };
}

/**
 * Reads the latest checkpoint of `dir` (the one `latest.json` names), or `null` when the folder has none.
 * Without a pointer file (a crash before the first pointer write) the newest complete checkpoint file is used.
 */
export async function loadCheckpoint(dir: string): Promise<Checkpoint | null> {
  const { fs, path } = await nodeIo();
  const join = path.join;
  let pointer: string | undefined;
  try {
    pointer = await fs.readFile(join(dir, LATEST_CHECKPOINT_FILE), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  if (pointer === undefined) {
    const newest = (await listCheckpoints(dir)).at(-1);
    return newest === undefined ? null : readCheckpoint(newest.path);
  }
  let file: unknown;
  try {
    file = (JSON.parse(pointer) as { file?: unknown }).file;
  } catch (error) {
    throw corrupt(join(dir, LATEST_CHECKPOINT_FILE), "is not JSON", error);
  }
  if (typeof file !== "string" || !/^checkpoint-\d{9,}\.safetensors$/.test(file)) {
    throw corrupt(join(dir, LATEST_CHECKPOINT_FILE), `names no checkpoint file (${JSON.stringify(file)})`);
  }
  return readCheckpoint(join(dir, file));
}

function toTensor(tensor: SafetensorsTensor, label: string): tf.Tensor {
  if (tensor.dtype === "F32" || tensor.dtype === "I32") {
    return tf.tensor(
      tensor.data as Float32Array | Int32Array,
      tensor.shape,
      tensor.dtype === "F32" ? "float32" : "int32",
    );
  }
  throw new KoraError<TfjsErrorCode>({
    code: "INVALID_CHECKPOINT",
    message: `${label}: unexpected dtype ${tensor.dtype}`,
  });
}

/**
 * Restores a checkpoint into `variables` (assigned in place; every variable must be in the checkpoint with the same
 * shape) and `optimizer` (its whole state replaced).
 *
 * @throws KoraError `CHECKPOINT_MISMATCH` naming the missing or differently shaped variable.
 */
export function restoreCheckpoint(
  checkpoint: Checkpoint,
  variables: TrainingVariables,
  optimizer: Optimizer,
): void {
  const named = namedVariables(variables);
  for (const [name, variable] of named) {
    const saved = checkpoint.variables[name];
    if (saved === undefined || saved.shape.join(",") !== variable.shape.join(",")) {
      throw new KoraError<TfjsErrorCode>({
        code: "CHECKPOINT_MISMATCH",
        message:
          saved === undefined
            ? `${checkpoint.path}: has no variable "${name}"`
            : `${checkpoint.path}: variable "${name}" has shape [${saved.shape}], the model [${variable.shape}]`,
        path: name,
      });
    }
  }
  const extra = Object.keys(checkpoint.variables).filter((name) => !named.has(name));
  if (extra.length > 0) {
    throw new KoraError<TfjsErrorCode>({
      code: "CHECKPOINT_MISMATCH",
      message: `${checkpoint.path}: holds variables the run does not train: ${extra.slice(0, 5).join(", ")}`,
    });
  }
  for (const [name, variable] of named) {
    const value = toTensor(checkpoint.variables[name] as SafetensorsTensor, name);
    variable.assign(value);
    value.dispose();
  }
  const tensors: Record<string, tf.Tensor> = {};
  for (const [name, t] of Object.entries(checkpoint.optimizer.tensors)) tensors[name] = toTensor(t, name);
  try {
    optimizer.loadState(checkpoint.optimizer.json, tensors);
  } finally {
    tf.dispose(Object.values(tensors));
  }
}
