import {
  KoraError,
  readSafetensors,
  type SafetensorsTensor,
  type SafetensorsTensorInput,
  writeSafetensors,
} from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import type { TfjsErrorCode } from "../errors";
import { canonicalJson } from "./canonical-json";
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
/** Suffix of a checkpoint's manifest: `checkpoint-<step>.manifest.json` beside `checkpoint-<step>.safetensors`. */
export const CHECKPOINT_MANIFEST_SUFFIX = ".manifest.json";
const MANIFEST_FORMAT = "kora-checkpoint-manifest";
const MANIFEST_VERSION = 1;
/** A manifest lists one file and a few hundred variable names at most; anything larger is damage, not data. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const DATA_PATTERN = /^checkpoint-(\d{9,})\.safetensors$/;
const MANIFEST_PATTERN = /^checkpoint-(\d{9,})\.manifest\.json$/;

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

/**
 * What a checkpoint's fingerprint is computed from: a resume checks that the checkpoint was written by the same
 * training configuration, so a foreign checkpoint (another config that happens to share the seed) is refused.
 */
export interface CheckpointFingerprint {
  /**
   * The training engine's own settings (seed, accumulation, clipping, optimizer kind, each variable's name, shape,
   * dtype, learning rate and weight decay), kept in clear in the manifest so a mismatch can name the field.
   */
  engine: Record<string, unknown>;
  /**
   * SHA-256 of the caller's description of the run ({@link TrainCheckpointOptions.fingerprint}: training
   * configuration, adapter spec, backbone identity), or `null` when the caller gave none.
   */
  caller: string | null;
}

/** One file a manifest vouches for. */
export interface CheckpointFileDigest {
  /** Size in bytes. */
  bytes: number;
  /** Hex SHA-256 of the file's bytes. */
  sha256: string;
}

/**
 * `checkpoint-<step>.manifest.json`: written atomically after the checkpoint's data file, it is what makes a
 * checkpoint complete. A resume verifies it before trusting the data.
 */
export interface CheckpointManifest {
  /** `"kora-checkpoint-manifest"`. */
  format: string;
  /** Manifest version (1). */
  version: number;
  /** Optimizer step of the checkpoint (also in the file name and in the data file's metadata). */
  step: number;
  /** Hex SHA-256 of the canonical JSON of `config`, or `null` when saved without a fingerprint. */
  fingerprint: string | null;
  /** What `fingerprint` was computed from, or `null`. */
  config: CheckpointFingerprint | null;
  /** The data file(s) by name, with size and SHA-256. */
  files: Record<string, CheckpointFileDigest>;
  /** Hex SHA-256 of the canonical JSON of every other field: a damaged manifest is told from a foreign one. */
  checksum: string;
}

/** A checkpoint that {@link loadCheckpoint} passed over because it failed verification. */
export interface SkippedCheckpoint {
  /** Step of the checkpoint. */
  step: number;
  /** Path of its data file (which may be missing). */
  path: string;
  /** What failed (e.g. "its SHA-256 differs from the manifest"). */
  reason: string;
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
  /** Keep only the newest this-many checkpoints (default: keep all). Falling back past a damaged one needs ≥ 2. */
  keepLast?: number;
  /** The run's fingerprint, recorded in the manifest and checked on resume (default: none recorded). */
  fingerprint?: CheckpointFingerprint;
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
  /** The manifest it was verified against, or `null` (read by {@link readCheckpoint}, or a folder without any). */
  manifest: CheckpointManifest | null;
  /** Newer checkpoints {@link loadCheckpoint} passed over as damaged, newest first (empty when none). */
  skipped: SkippedCheckpoint[];
}

/** Options of {@link loadCheckpoint}. */
export interface LoadCheckpointOptions {
  /**
   * The fingerprint of the run about to resume: a verified checkpoint whose manifest records another one is
   * refused with `CHECKPOINT_MISMATCH` (a foreign checkpoint is not damage, so there is no fallback).
   */
  fingerprint?: CheckpointFingerprint;
}

/** One checkpoint file of a folder, as {@link listCheckpoints} finds it. */
export interface CheckpointEntry {
  /** Optimizer step of the checkpoint. */
  step: number;
  /** Path of the file. */
  path: string;
  /** Path of its manifest, or `null` when it has none (a write that did not complete, or an older version). */
  manifest: string | null;
}

function fileName(step: number): string {
  return `${PREFIX}${String(step).padStart(9, "0")}${SUFFIX}`;
}

function manifestName(step: number): string {
  return `${PREFIX}${String(step).padStart(9, "0")}${CHECKPOINT_MANIFEST_SUFFIX}`;
}

/** Hex SHA-256 of a fingerprint's canonical JSON. */
async function fingerprintHash(fingerprint: CheckpointFingerprint): Promise<string> {
  return (await nodeIo()).sha256(canonicalJson(fingerprint));
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

/** Every step of `dir` with a data file, a manifest or both, oldest first. */
async function scan(dir: string): Promise<{ step: number; data: boolean; manifest: boolean }[]> {
  const { fs } = await nodeIo();
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const steps = new Map<number, { step: number; data: boolean; manifest: boolean }>();
  for (const name of names) {
    const data = DATA_PATTERN.exec(name);
    const manifest = MANIFEST_PATTERN.exec(name);
    const match = data ?? manifest;
    if (match === null) continue;
    const step = Number(match[1]);
    const entry = steps.get(step) ?? { step, data: false, manifest: false };
    if (data !== null) entry.data = true;
    else entry.manifest = true;
    steps.set(step, entry);
  }
  return [...steps.values()].sort((a, b) => a.step - b.step);
}

/**
 * The checkpoint data files of `dir`, oldest first, each with its manifest when it has one. Only complete files
 * appear: each is written to a temporary name and renamed, so a half-written file never has a checkpoint name; a
 * data file without a manifest is one whose checkpoint did not complete (see {@link saveCheckpoint}).
 */
export async function listCheckpoints(dir: string): Promise<CheckpointEntry[]> {
  const { path } = await nodeIo();
  return (await scan(dir))
    .filter((e) => e.data)
    .map((e) => ({
      step: e.step,
      path: path.join(dir, fileName(e.step)),
      manifest: e.manifest ? path.join(dir, manifestName(e.step)) : null,
    }));
}

/**
 * Writes a checkpoint of the variables, the optimizer state and the loop position as one safetensors file
 * (`checkpoint-<step>.safetensors`; the position in its metadata), then its manifest
 * (`checkpoint-<step>.manifest.json`: the step, the file's size and SHA-256, the run's fingerprint, a checksum of
 * itself), then points `latest.json` at it, and only then deletes checkpoints beyond the newest `keepLast`
 * (manifest first). Every file is written atomically (temp file + fsync + rename). A crash at any moment leaves
 * the previous complete checkpoint intact; a data file without its manifest is never resumed from. One writer
 * per folder.
 *
 * @returns the path of the new checkpoint's data file.
 * @throws KoraError `DISK_FULL` (ENOSPC, EDQUOT) or `IO_ERROR` naming the file that could not be written; the
 * folder's previous checkpoints are untouched and a data file whose manifest could not be written is removed.
 */
export async function saveCheckpoint(input: SaveCheckpointInput): Promise<string> {
  const { dir, optimizer, position, keepLast } = input;
  const { fs, path: paths, sha256 } = await nodeIo();
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
  const config = input.fingerprint ?? null;
  const body = {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    step: position.step,
    fingerprint: config === null ? null : await fingerprintHash(config),
    config,
    files: { [name]: { bytes: bytes.byteLength, sha256: sha256(bytes) } },
  };
  const manifest: CheckpointManifest = { ...body, checksum: sha256(canonicalJson(body)) };
  const manifestPath = paths.join(dir, manifestName(position.step));
  await writeOrExplain(path, bytes);
  try {
    await writeOrExplain(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  } catch (error) {
    // Without its manifest the data file is never resumed from; remove it so a full disk gets its space back.
    await fs.rm(path, { force: true }).catch(() => undefined);
    throw error;
  }
  await writeOrExplain(
    paths.join(dir, LATEST_CHECKPOINT_FILE),
    `${JSON.stringify({ file: name, step: position.step })}\n`,
  );
  if (keepLast !== undefined) {
    const all = await listCheckpoints(dir);
    const stale = all.filter((entry) => entry.path !== path).slice(0, Math.max(0, all.length - keepLast));
    for (const entry of stale) {
      if (entry.manifest !== null) await fs.rm(entry.manifest, { force: true });
      await fs.rm(entry.path, { force: true });
    }
  }
  return path;
}

/**
 * `writeFileAtomic`, with a failure turned into a `KoraError` naming the file: `DISK_FULL` for ENOSPC / EDQUOT,
 * `IO_ERROR` otherwise. The atomic writer has already removed its temporary file.
 */
async function writeOrExplain(path: string, data: string | Uint8Array): Promise<void> {
  const { writeFileAtomic } = await nodeIo();
  try {
    await writeFileAtomic(path, data);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const full = code === "ENOSPC" || code === "EDQUOT";
    throw new KoraError<TfjsErrorCode>({
      code: full ? "DISK_FULL" : "IO_ERROR",
      message: full
        ? `${path}: cannot write the checkpoint, the disk is full (${code})`
        : `${path}: cannot write the checkpoint (${code ?? (error as Error).message})`,
      path,
      cause: error,
    });
  }
}

function corrupt(path: string, message: string, cause?: unknown): KoraError {
  return new KoraError<TfjsErrorCode>({
    code: "INVALID_CHECKPOINT",
    message: `${path}: ${message}`,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Parses the bytes of a checkpoint data file (no manifest check). */
function parseCheckpoint(path: string, bytes: Uint8Array): Checkpoint {
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
    manifest: null,
    skipped: [],
  };
}

async function readBytes(path: string): Promise<Uint8Array> {
  const { fs } = await nodeIo();
  try {
    return new Uint8Array(await fs.readFile(path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new KoraError<TfjsErrorCode>({
      code: code === "ENOENT" ? "FILE_NOT_FOUND" : "IO_ERROR",
      message: `${path}: cannot read the checkpoint (${code ?? (error as Error).message})`,
      cause: error,
    });
  }
}

/**
 * Reads one checkpoint data file as it is, without its manifest (for inspection; {@link loadCheckpoint} is the
 * verified way to resume).
 *
 * @throws KoraError `INVALID_CHECKPOINT` when the file is not a checkpoint, `FILE_NOT_FOUND` / `IO_ERROR`.
 */
export async function readCheckpoint(path: string): Promise<Checkpoint> {
  return parseCheckpoint(path, await readBytes(path));
}

/** Why a checkpoint failed verification; the caller falls back to an older one. */
class Damaged {
  constructor(readonly reason: string) {}
}

const HEX64 = /^[0-9a-f]{64}$/;

/** The manifest at `path`, checked for shape and against its own checksum, or {@link Damaged}. */
async function readManifest(path: string): Promise<CheckpointManifest | Damaged> {
  const { fs, sha256 } = await nodeIo();
  let text: string;
  try {
    const { size } = await fs.stat(path);
    if (size > MAX_MANIFEST_BYTES) {
      return new Damaged(
        `its manifest is ${size} bytes, more than a manifest can be (${MAX_MANIFEST_BYTES})`,
      );
    }
    text = await fs.readFile(path, "utf8");
  } catch (error) {
    return new Damaged(`its manifest cannot be read (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return new Damaged("its manifest is not JSON");
  }
  const m = parsed as Partial<CheckpointManifest> | null;
  const files = m?.files;
  const valid =
    m !== null &&
    typeof m === "object" &&
    m.format === MANIFEST_FORMAT &&
    m.version === MANIFEST_VERSION &&
    Number.isInteger(m.step) &&
    (m.fingerprint === null || (typeof m.fingerprint === "string" && HEX64.test(m.fingerprint))) &&
    typeof m.checksum === "string" &&
    files !== null &&
    typeof files === "object" &&
    Object.values(files).every(
      (f) =>
        Number.isInteger(f?.bytes) && f.bytes >= 0 && typeof f.sha256 === "string" && HEX64.test(f.sha256),
    );
  if (!valid) return new Damaged(`its manifest is not a ${MANIFEST_FORMAT} version ${MANIFEST_VERSION}`);
  const { checksum, config, ...rest } = m as CheckpointManifest;
  const configValid =
    config === null ||
    (typeof config === "object" &&
      config.engine !== null &&
      typeof config.engine === "object" &&
      !Array.isArray(config.engine) &&
      (config.caller === null || (typeof config.caller === "string" && HEX64.test(config.caller))));
  if (!configValid) return new Damaged("its manifest's config is not an engine object and a caller hash");
  let canonical: string;
  try {
    canonical = canonicalJson({ ...rest, config });
  } catch {
    // Only a hostile or damaged manifest nests deeply enough to exhaust the stack of a recursive walk.
    return new Damaged("its manifest is nested too deeply to be one");
  }
  if (sha256(canonical) !== checksum) {
    return new Damaged("its manifest does not match its own checksum (the manifest is damaged)");
  }
  return m as CheckpointManifest;
}

function mismatch(
  path: string,
  saved: CheckpointFingerprint | null,
  expected: CheckpointFingerprint,
): KoraError {
  const short = (value: unknown): string => {
    const text = value === undefined ? "nothing" : canonicalJson(value);
    return text.length > 120 ? `${text.slice(0, 117)}...` : text;
  };
  const keys = [...new Set([...Object.keys(saved?.engine ?? {}), ...Object.keys(expected.engine)])].sort();
  const field = keys.find(
    (k) => canonicalJson(saved?.engine[k] ?? null) !== canonicalJson(expected.engine[k] ?? null),
  );
  const message =
    field !== undefined
      ? `${field}: the checkpoint's run has ${short(saved?.engine[field])}, this run ${short(expected.engine[field])}`
      : "the run description given as checkpoint.fingerprint (training configuration, adapter spec, backbone) differs";
  return new KoraError<TfjsErrorCode>({
    code: "CHECKPOINT_MISMATCH",
    message: `${path} was written by another training configuration (${message}); resume it with the configuration that wrote it, or start a new run in another folder`,
    path: field ?? "checkpoint.fingerprint",
  });
}

/** One checkpoint verified against its manifest (and the expected fingerprint), or {@link Damaged}. */
async function verifiedCheckpoint(
  dir: string,
  step: number,
  hasManifest: boolean,
  expected: CheckpointFingerprint | undefined,
): Promise<Checkpoint | Damaged> {
  const { fs, path: paths, sha256 } = await nodeIo();
  const name = fileName(step);
  const path = paths.join(dir, name);
  if (!hasManifest) return new Damaged("it has no manifest (its write did not complete)");
  const manifest = await readManifest(paths.join(dir, manifestName(step)));
  if (manifest instanceof Damaged) return manifest;
  if (manifest.step !== step)
    return new Damaged(`its manifest says step ${manifest.step}, its file name ${step}`);
  const digest = manifest.files[name];
  if (digest === undefined || Object.keys(manifest.files).length !== 1) {
    return new Damaged(`its manifest does not list ${name} (alone)`);
  }
  if (expected !== undefined && manifest.fingerprint !== null) {
    if (manifest.fingerprint !== (await fingerprintHash(expected)))
      throw mismatch(path, manifest.config, expected);
  }
  let size: number;
  try {
    size = (await fs.stat(path)).size;
  } catch (error) {
    return new Damaged(`its data file cannot be read (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
  if (size !== digest.bytes) return new Damaged(`it is ${size} bytes, its manifest says ${digest.bytes}`);
  let bytes: Uint8Array;
  try {
    bytes = await readBytes(path);
  } catch (error) {
    return new Damaged((error as Error).message);
  }
  if (sha256(bytes) !== digest.sha256)
    return new Damaged("its SHA-256 differs from its manifest (the data is damaged)");
  let checkpoint: Checkpoint;
  try {
    checkpoint = parseCheckpoint(path, bytes);
  } catch (error) {
    return new Damaged((error as Error).message);
  }
  if (checkpoint.position.step !== step) {
    return new Damaged(`it holds step ${checkpoint.position.step}, its manifest ${step}`);
  }
  return { ...checkpoint, manifest };
}

/** The legacy way, for folders written before checkpoints had manifests: the checkpoint `latest.json` names, unverified. */
async function unverifiedLatest(dir: string): Promise<Checkpoint | null> {
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
  if (typeof file !== "string" || !DATA_PATTERN.test(file)) {
    throw corrupt(join(dir, LATEST_CHECKPOINT_FILE), `names no checkpoint file (${JSON.stringify(file)})`);
  }
  return readCheckpoint(join(dir, file));
}

/**
 * Reads the newest checkpoint of `dir` that verifies, or `null` when the folder has none. Each candidate, newest
 * first, must have a manifest that matches its own checksum, its file name's step and the data file's size and
 * SHA-256, and a data file that parses and holds that step; a candidate that fails is passed over (listed in
 * {@link Checkpoint.skipped}, for the caller to warn about) and the next older one is tried. Hashing reads each
 * file once, in time linear in its size; a manifest larger than 4 MiB is damage and is not read.
 *
 * A folder with no manifest at all is either written before manifests existed (it has a `latest.json`: read
 * the old way, from the checkpoint that names, unverified, `manifest: null`) or holds only data files whose
 * manifest was never written (a crash during the first checkpoint: `null`, nothing to resume).
 *
 * @throws KoraError `CHECKPOINT_MISMATCH` when the newest verified checkpoint was written with another
 * {@link LoadCheckpointOptions.fingerprint} (a foreign checkpoint is refused, not skipped);
 * `CHECKPOINT_CORRUPT` naming the newest damaged file when checkpoints exist but none verifies.
 */
export async function loadCheckpoint(
  dir: string,
  options: LoadCheckpointOptions = {},
): Promise<Checkpoint | null> {
  const { fs, path } = await nodeIo();
  const found = await scan(dir);
  if (found.length === 0) return null;
  if (found.every((e) => !e.manifest)) {
    // Written before manifests existed (they always wrote latest.json after the data), or only data files whose
    // manifest never came (a crash during the run's first checkpoint): then there is no checkpoint to resume.
    const pointer = await fs.stat(path.join(dir, LATEST_CHECKPOINT_FILE)).catch(() => null);
    return pointer === null ? null : unverifiedLatest(dir);
  }
  const skipped: SkippedCheckpoint[] = [];
  for (const entry of [...found].reverse()) {
    const result = await verifiedCheckpoint(dir, entry.step, entry.manifest, options.fingerprint);
    if (!(result instanceof Damaged)) return { ...result, skipped };
    skipped.push({ step: entry.step, path: path.join(dir, fileName(entry.step)), reason: result.reason });
  }
  const newest = skipped[0] as SkippedCheckpoint;
  throw new KoraError<TfjsErrorCode>({
    code: "CHECKPOINT_CORRUPT",
    message:
      `${newest.path}: ${newest.reason}, and no older checkpoint of ${dir} verifies either, so the run cannot ` +
      `resume (${
        skipped
          .slice(1)
          .map((s) => `${path.basename(s.path)}: ${s.reason}`)
          .join("; ") || "no older checkpoint"
      }); start the run again in a new folder`,
    path: newest.path,
  });
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
