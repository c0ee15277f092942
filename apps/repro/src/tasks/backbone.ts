import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { openDataset } from "@kora/datasets/node";
import { classificationTask, disposeModel, evaluateTask, pretrain } from "@kora/finetune";
import { type BackboneSource, openBackbone } from "@kora/finetune/node";
import { KoraError } from "@kora/spec";
import type { ViTConfig } from "@kora/vit";
import { saveViT } from "@kora/vit/node";
import type { Preset } from "../config/presets";
import { setAside } from "../damaged";
import { hashOf, type TaskContext, warmupSteps } from "./context";

/** Result of {@link ensureBackbone}: where the weights are and what it took. */
export interface BackboneInfo {
  /** A Hugging Face checkpoint (`model.safetensors`, or a folder with it and `config.json`). */
  path: string;
  hash: string;
  cached: boolean;
  seconds: number;
  /** Accuracy of the pretraining head on 500 held-out pretraining images (synthetic backbones only). */
  pretrainAccuracy: number | null;
  description: string;
}

/** What of the preset the pretrained backbone depends on (its cache key). Version 2: saved as a HF checkpoint. */
function pretrainConfigKey(preset: Preset): unknown {
  return { model: preset.model, backbone: preset.backbone, version: 2 };
}

/**
 * The backbone's configuration (image size, channels, normalisation): what the controls that use no ViT (the pixel
 * probe, the constant depth) need to see the pixels as the ViT does. Read once per process.
 */
export async function backboneConfig(backbone: BackboneInfo): Promise<ViTConfig> {
  const cached = configs.get(backbone.path);
  if (cached !== undefined) return cached;
  const vit = await openBackbone(backboneSource(backbone));
  const config = vit.config;
  disposeModel(vit);
  configs.set(backbone.path, config);
  return config;
}

const configs = new Map<string, ViTConfig>();

/** The `@kora/finetune` backbone source of a run: the pretrained (or given) checkpoint. */
export function backboneSource(backbone: BackboneInfo): BackboneSource {
  return { weights: backbone.path };
}

/**
 * The pretrained backbone of the preset: pretrained on synthetic-pretrain and cached under
 * `cacheDir/backbone-<config hash>/` (a second run skips the pretraining), or the `--weights` file.
 */
export async function ensureBackbone(context: TaskContext): Promise<BackboneInfo> {
  const { preset, cacheDir } = context;
  const source = preset.backbone;
  if (source.kind === "weights") {
    if (source.sha256 !== undefined) checkShippedBackbone(source.path, source.sha256);
    const record = readPretrainRecord(source.path);
    return {
      path: source.path,
      hash: source.sha256 ?? hashOf(source.path),
      cached: true,
      seconds: record?.seconds ?? 0,
      pretrainAccuracy: record?.heldOut?.accuracy ?? null,
      description:
        record === null
          ? `weights from ${source.path}`
          : `${record.backbone} pretrained with kora pretrain on ${record.dataset.name} items ${record.dataset.items[0]}–${record.dataset.items[1] - 1} (${record.training.steps} steps × ${record.training.batchSize}, ${(record.seconds / 60).toFixed(0)} min; see ${join(source.path, "MODEL_CARD.md")})`,
    };
  }
  const hash = hashOf(pretrainConfigKey(preset));
  const path = join(cacheDir, `backbone-${hash}`);
  const infoPath = join(cacheDir, `backbone-${hash}.json`);
  const labels = source.labels === "shape" ? ", 10 shape labels" : "";
  const init = source.init === "lecun" ? ", LeCun init" : "";
  const description = `pretrained here on ${source.dataset} (${source.steps} steps × ${source.batchSize}, lr ${source.learningRate}${labels}${init})`;
  const entry = readCacheEntry(path, infoPath);
  if (entry.kind === "valid") {
    context.log(`backbone: cached ${path}`);
    return {
      path,
      hash,
      cached: true,
      seconds: entry.info.seconds,
      pretrainAccuracy: entry.info.pretrainAccuracy,
      description,
    };
  }
  if (entry.kind === "damaged") {
    // Kept for inspection under cache/damaged/<timestamp>/, out of the way of the entry pretrained again.
    const moved = setAside(cacheDir, [path, infoPath], entry.reason).filter((to) => to !== null);
    context.log(
      `backbone: warning: the cached ${path} is damaged (${entry.reason}); pretraining it again${
        moved.length === 0 ? "" : ` (the damaged entry is kept in ${dirname(moved[0] as string)})`
      }`,
    );
  }
  context.log(`backbone: pretraining on ${source.dataset} (${source.steps} steps), cached as ${path}`);
  const started = performance.now();
  const accuracy = await pretrainBackbone(context, path);
  const seconds = (performance.now() - started) / 1000;
  mkdirSync(cacheDir, { recursive: true });
  // The info file is written last and atomically: it marks the entry complete and records the checksums that
  // later runs verify.
  const info: CacheInfo = {
    seconds,
    pretrainAccuracy: accuracy,
    config: pretrainConfigKey(preset),
    files: digestFolder(path),
  };
  const temporary = `${infoPath}.tmp-${process.pid}`;
  writeFileSync(temporary, `${JSON.stringify(info, null, 2)}\n`);
  renameSync(temporary, infoPath);
  context.log(
    `backbone: pretrained in ${seconds.toFixed(1)} s, held-out accuracy ${(accuracy * 100).toFixed(1)} %`,
  );
  return { path, hash, cached: false, seconds, pretrainAccuracy: accuracy, description };
}

/** The fields of a `kora pretrain` folder's `pretrain.json` the harness reads. */
interface PretrainRecord {
  backbone: string;
  dataset: { name: string; items: [number, number] };
  training: { steps: number; batchSize: number };
  seconds: number;
  heldOut: { accuracy: number; items: number } | null;
}

function readPretrainRecord(path: string): PretrainRecord | null {
  const file = join(path, "pretrain.json");
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as PretrainRecord;
  } catch {
    return null;
  }
}

/**
 * Checks the shipped backbone's weights against the SHA-256 its preset records (a damaged or replaced file would
 * silently change every number of the report).
 *
 * @throws KoraError `FILE_NOT_FOUND` when the weights are missing, `CHECKSUM_MISMATCH` when they differ.
 */
export function checkShippedBackbone(path: string, sha256: string): void {
  const file = join(path, "model.safetensors");
  if (!existsSync(file)) {
    throw new KoraError({ code: "FILE_NOT_FOUND", message: `the backbone ${file} is missing` });
  }
  const actual = createHash("sha256").update(readFileSync(file)).digest("hex");
  if (actual !== sha256) {
    throw new KoraError({
      code: "CHECKSUM_MISMATCH",
      message: `the backbone ${file} has SHA-256 ${actual}, not the ${sha256} its model card and preset record: restore it (git checkout) or pretrain it again with the command in its MODEL_CARD.md`,
    });
  }
}

/** `backbone-<hash>.json`: what the cached entry took to make and the SHA-256 of each of its files. */
interface CacheInfo {
  seconds: number;
  pretrainAccuracy: number | null;
  config: unknown;
  files: Record<string, string>;
}

function digestFolder(path: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of readdirSync(path).sort()) {
    files[name] = createHash("sha256")
      .update(readFileSync(join(path, name)))
      .digest("hex");
  }
  return files;
}

type CacheEntry =
  | { kind: "valid"; info: CacheInfo }
  | { kind: "missing" }
  | { kind: "damaged"; reason: string };

/**
 * Checks a cached backbone against its info file: the info must parse and every file it lists must still have
 * its SHA-256. A damaged entry (a crash, a full disk, an edit) is rebuilt rather than failing every later run.
 */
function readCacheEntry(path: string, infoPath: string): CacheEntry {
  if (!existsSync(infoPath)) return { kind: "missing" };
  let info: Partial<CacheInfo>;
  try {
    info = JSON.parse(readFileSync(infoPath, "utf8")) as Partial<CacheInfo>;
  } catch (error) {
    return { kind: "damaged", reason: `${infoPath} is not valid JSON: ${(error as Error).message}` };
  }
  if (
    info === null ||
    typeof info !== "object" ||
    typeof info.seconds !== "number" ||
    (info.pretrainAccuracy !== null && typeof info.pretrainAccuracy !== "number") ||
    info.files === null ||
    typeof info.files !== "object" ||
    !("model.safetensors" in info.files)
  ) {
    return { kind: "damaged", reason: `${infoPath} lacks its fields or its checksums` };
  }
  for (const [name, sha256] of Object.entries(info.files)) {
    const file = join(path, name);
    if (!existsSync(file)) return { kind: "damaged", reason: `${file} is missing` };
    let digest: string;
    try {
      digest = createHash("sha256").update(readFileSync(file)).digest("hex");
    } catch (error) {
      return { kind: "damaged", reason: `${file} cannot be read (${(error as NodeJS.ErrnoException).code})` };
    }
    if (digest !== sha256) return { kind: "damaged", reason: `${file} differs from its checksum` };
  }
  return { kind: "valid", info: info as CacheInfo };
}

/**
 * Pretrains the preset's model from scratch on synthetic-pretrain (every weight trains) with `@kora/finetune`,
 * saves it as a Hugging Face checkpoint folder at `path`, and returns its held-out accuracy.
 */
async function pretrainBackbone(context: TaskContext, path: string): Promise<number> {
  const { preset } = context;
  const source = preset.backbone;
  if (source.kind !== "pretrain") throw new Error("unreachable: only a pretrain backbone is pretrained");
  const shapes = source.labels === "shape";
  const classes = preset.model.numClasses ?? 0;
  if (shapes && classes !== 10) {
    throw new KoraError({
      code: "INVALID_ARGUMENT",
      message: `backbone.labels "shape" needs a 10-class pretraining head, got numClasses ${classes}`,
    });
  }
  const sizes = { trainSize: source.trainSize, testSize: 500 };
  const trainSet = await openDataset("synthetic-pretrain", { split: "train", ...sizes });
  const testSet = await openDataset("synthetic-pretrain", { split: "test", ...sizes });
  // Pretraining labels are global class ids (shape × 10 + texture); "shape" keeps the shape.
  const relabel = (dataset: typeof trainSet) =>
    shapes
      ? Int32Array.from({ length: dataset.size }, (_, i) => Math.floor(dataset.label(i) / 10))
      : undefined;
  // @kora/finetune's pretrain(), as `kora pretrain` runs it.
  const { vit } = await pretrain({
    model: preset.model,
    dataset: trainSet,
    labels: relabel(trainSet),
    classes,
    batchSize: source.batchSize,
    steps: source.steps,
    learningRate: source.learningRate,
    weightDecay: 0.05,
    warmupSteps: warmupSteps(source.steps),
    init: source.init ?? "hf",
    seed: 0,
    onStep: (event) => context.onProgress(event.step, source.steps),
  });
  try {
    const scores = await evaluateTask(vit, classificationTask({ classes }), testSet, {
      batchSize: preset.batchSize,
      labels: relabel(testSet),
    });
    await saveViT(vit, path);
    return scores.accuracy;
  } finally {
    disposeModel(vit);
  }
}
