import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { cpus, hostname } from "node:os";
import { join } from "node:path";
import { classificationTask, disposeModel, evaluateTask, pretrain } from "@kora/finetune";
import { didYouMean, KoraError } from "@kora/spec";
import { type StepEvent, selectedWasmThreads } from "@kora/tfjs";
import { VIT_PRESETS, type ViTPresetName } from "@kora/vit";
import { saveViT } from "@kora/vit/node";
import type { Output } from "../output/context";
import { createProgress, formatDuration } from "../output/progress";
import { openDatasetSplit } from "../run/data";
import { appendMetricsLine, trimMetricsLog } from "../run/metrics-log";
import { prepareOutputFolder, removeCreatedFolders, writeOutputFile } from "../run/output-folder";
import { lockRunFolder } from "../run/run-lock";
import { checkRunSize } from "../run/train-settings";
import { useBackend } from "../support/backend";
import { InterruptedError, UsageError } from "../support/errors";

/** Options of `kora pretrain`, as commander parses them. */
export interface PretrainCommandOptions {
  backbone?: string;
  dataset?: string;
  root?: string;
  items?: string;
  labelMap?: string;
  steps?: number;
  batchSize?: number;
  lr?: number;
  weightDecay?: number;
  warmup?: number;
  init?: "lecun" | "hf";
  seed?: number;
  evalItems?: number;
  dtype?: "f32" | "f16";
  checkpointEvery?: number;
  resume?: boolean;
  out?: string;
  backend?: "tensorflow" | "wasm" | "cpu";
  threads?: number | "auto";
}

/** Examples per step when `--batch-size` is not given. */
const PRETRAIN_BATCH_SIZE = 64;

/** Files of a pretraining folder. */
export const PRETRAIN_FILES = {
  weights: "model.safetensors",
  config: "config.json",
  record: "pretrain.json",
  metrics: "metrics.jsonl",
  checkpoints: "checkpoints",
} as const;

/** `pretrain.json`: what was trained, how, how long, how well, and the checksum of the weights written. */
export interface PretrainRecord {
  command: "pretrain";
  argv: string[];
  backbone: string;
  dataset: { name: string; root: string | null; items: [number, number]; labelMap?: number[] };
  training: {
    steps: number;
    batchSize: number;
    lr: number;
    weightDecay: number;
    warmup: number;
    init: "lecun" | "hf";
    seed: number;
  };
  dtype: "f32" | "f16";
  heldOut: { split: "test"; items: number; accuracy: number } | null;
  seconds: number;
  finalLoss: number;
  machine: { backend: string; threads: number | null; cpus: number; cpuModel: string; host: string };
  sha256: string;
  bytes: number;
}

/**
 * Parses `--label-map` against the dataset's classes: one non-negative integer per class, the new labels covering
 * `0 … k−1` with k ≥ 2.
 */
export function parseLabelMap(value: string | undefined, classes: number): number[] | null {
  if (value === undefined) return null;
  const labels = value.split(",").map((part) => part.trim());
  if (labels.length !== classes || !labels.every((l) => /^\d+$/.test(l))) {
    throw new UsageError(
      `--label-map: give ${classes} non-negative integers, one per class in class order (e.g. ${Array.from({ length: classes }, (_, i) => i % 2).join(",")}), got "${value}"`,
    );
  }
  const map = labels.map(Number);
  const k = Math.max(...map) + 1;
  const used = new Set(map);
  if (k < 2 || used.size !== k) {
    throw new UsageError(`--label-map: the new labels must be 0 … k−1 with k ≥ 2, each used; got "${value}"`);
  }
  return map;
}

/** Parses `--items start:end` against the split's size. */
export function parseItemRange(value: string | undefined, size: number): [number, number] {
  if (value === undefined) return [0, size];
  const match = /^(\d+):(\d+)$/.exec(value.trim());
  if (match === null) throw new UsageError(`--items: expected START:END (e.g. 0:50000), got "${value}"`);
  const start = Number(match[1]);
  const end = Number(match[2]);
  if (!(start < end) || end > size) {
    throw new UsageError(
      `--items: need 0 ≤ START < END ≤ ${size} (the train split's size), got ${start}:${end}`,
    );
  }
  return [start, end];
}

/** Runs `kora pretrain`. */
export async function runPretrain(options: PretrainCommandOptions, output: Output): Promise<void> {
  const out = options.out;
  if (out === undefined) throw new UsageError("give --out DIR (the backbone folder to write)");
  if (options.backbone === undefined) throw new UsageError("give --backbone PRESET (e.g. vit-mini-28)");
  const presets = Object.keys(VIT_PRESETS);
  if (!presets.includes(options.backbone)) {
    throw new UsageError(
      `--backbone: unknown preset "${options.backbone}"; known: ${presets.join(", ")}${didYouMean(options.backbone, presets)}`,
    );
  }
  if (options.dataset === undefined)
    throw new UsageError("give --dataset NAME ('kora datasets list' shows them)");
  if (options.steps === undefined) throw new UsageError("give --steps N (optimizer steps in total)");
  // Sized before the folder, the backend or the data exist: batch 1e9 or steps 1e12 used to run on to gigabytes.
  // The data's own size is checked once its items are known (below, with the folder removed on failure).
  checkRunSize(
    { batchSize: options.batchSize ?? PRETRAIN_BATCH_SIZE, steps: options.steps },
    Number.POSITIVE_INFINITY,
    options.dataset,
  );
  if (options.resume !== true) {
    const found = Object.values(PRETRAIN_FILES).filter((name) => existsSync(join(out, name)));
    if (found.length > 0) {
      throw new KoraError({
        code: "OUTPUT_EXISTS",
        message: `--out: ${out} already holds ${found.join(", ")}; continue an interrupted pretraining with --resume, or choose another folder`,
      });
    }
  } else if (existsSync(join(out, PRETRAIN_FILES.record))) {
    // A finished pretraining has no checkpoints left: resuming it would silently start again from step 0.
    throw new KoraError({
      code: "OUTPUT_EXISTS",
      message: `--resume: ${out} holds a finished pretraining (${PRETRAIN_FILES.record}); there is nothing to continue`,
    });
  } else if (!existsSync(join(out, PRETRAIN_FILES.checkpoints))) {
    throw new KoraError({
      code: "FILE_NOT_FOUND",
      message: `--resume: ${out} holds no pretraining to continue (no ${PRETRAIN_FILES.checkpoints}/)`,
    });
  }
  const { created } = await prepareOutputFolder(out);
  const lock = await lockRunFolder(out, "pretrain", (note) => output.note(note, true));
  let failed = true;
  try {
    await pretrainLocked(
      out,
      options as PretrainCommandOptions & { backbone: ViTPresetName; dataset: string; steps: number },
      output,
    );
    failed = false;
  } finally {
    await lock.release();
    if (failed && options.resume !== true) await removeCreatedFolders(created);
  }
}

async function pretrainLocked(
  out: string,
  options: PretrainCommandOptions & { backbone: ViTPresetName; dataset: string; steps: number },
  output: Output,
): Promise<void> {
  await useBackend(options, output);
  const dataset = await openDatasetSplit({ name: options.dataset, root: options.root, split: "train" });
  if (dataset.task !== "classification") {
    throw new UsageError(
      `--dataset: ${dataset.name} is a ${dataset.task} dataset; pretraining needs labelled images`,
    );
  }
  const items = parseItemRange(options.items, dataset.size);
  const indices = Int32Array.from({ length: items[1] - items[0] }, (_, i) => items[0] + i);
  const labelMap = parseLabelMap(options.labelMap, dataset.classes.length);
  checkRunSize(
    { batchSize: options.batchSize ?? PRETRAIN_BATCH_SIZE, steps: options.steps },
    indices.length,
    `${dataset.name} items ${items[0]}:${items[1]}`,
  );
  const relabel = (set: typeof dataset, at: ArrayLike<number>): Int32Array | undefined =>
    labelMap === null ? undefined : Int32Array.from(at, (i) => labelMap[set.label(i)] as number);
  const training = {
    steps: options.steps,
    batchSize: options.batchSize ?? PRETRAIN_BATCH_SIZE,
    lr: options.lr ?? 1e-3,
    weightDecay: options.weightDecay ?? 0.05,
    warmup: options.warmup ?? Math.max(1, Math.round(options.steps * 0.1)),
    init: options.init ?? "lecun",
    seed: options.seed ?? 0,
  };
  const metricsPath = join(out, PRETRAIN_FILES.metrics);
  const stop = new AbortController();
  const onSignal = (): void => {
    if (stop.signal.aborted) {
      output.note("kora: interrupted again; quitting without a checkpoint", true);
      process.exit(130);
    }
    stop.abort();
    // End the bar first: drawn again after the message, it would overwrite it on a terminal.
    progress?.stop();
    output.note("\nkora: stopping after this step (saving a checkpoint); Ctrl-C again to quit now", true);
  };
  let progress: ReturnType<typeof createProgress> | null = null;
  const onStep = (event: StepEvent): void => {
    if (progress === null) {
      // A resumed pretraining replays the steps after its checkpoint: drop their lines (and torn ones) first.
      const { unreadable, missing } = trimMetricsLog(metricsPath, event.step);
      if (missing.length > 0 || unreadable.length > 0) {
        output.note(
          `kora: warning: ${metricsPath}: ${missing.length > 0 ? `no line for step ${missing.join(", ")} (stopped between its checkpoint and its log line)` : ""}${missing.length > 0 && unreadable.length > 0 ? "; " : ""}${unreadable.length > 0 ? `skipped ${unreadable.length} torn line(s)` : ""}`,
          true,
        );
      }
      progress = createProgress(output, {
        label: `pretrain ${options.backbone}`,
        total: training.steps,
        start: event.step - 1,
        detail: true,
      });
    }
    // One line per step, written at once: a second Ctrl-C or a crash loses no step the checkpoint holds.
    appendMetricsLine(
      metricsPath,
      JSON.stringify({
        step: event.step,
        loss: event.loss,
        lr: event.learningRate,
        gradientNorm: event.gradientNorm,
        imagesPerSecond: event.imagesPerSecond,
        elapsedSeconds: event.elapsedSeconds,
      }),
    );
    progress.tick(
      1,
      `loss ${event.loss.toFixed(4)} | ${event.imagesPerSecond.toFixed(0)} img/s | ETA ${formatDuration(event.etaSeconds ?? null)}`,
    );
  };
  const started = performance.now();
  process.on("SIGINT", onSignal);
  let result: Awaited<ReturnType<typeof pretrain>>;
  try {
    result = await pretrain({
      model: options.backbone,
      dataset,
      indices,
      labels: relabel(dataset, indices),
      batchSize: training.batchSize,
      steps: training.steps,
      learningRate: training.lr,
      weightDecay: training.weightDecay,
      warmupSteps: training.warmup,
      init: training.init,
      seed: training.seed,
      checkpoint: {
        dir: join(out, PRETRAIN_FILES.checkpoints),
        keepLast: 2,
        resume: options.resume === true,
        fingerprint: {
          command: "pretrain",
          backbone: options.backbone,
          dataset: dataset.name,
          items,
          training,
          ...(labelMap === null ? {} : { labelMap }),
        },
        everySteps: options.checkpointEvery ?? 500,
      },
      signal: stop.signal,
      onStep,
    });
  } finally {
    process.off("SIGINT", onSignal);
    (progress as ReturnType<typeof createProgress> | null)?.stop();
  }
  const vit = result.vit;
  try {
    if (result.stopped) {
      // Exit code 130 through the program's error path (process.exitCode would be overwritten by main's result).
      throw new InterruptedError(
        `interrupted at step ${result.step} of ${training.steps}; checkpoint ${result.checkpoint ?? "(none)"}; continue with the same command and --resume`,
      );
    }
    const seconds = (performance.now() - started) / 1000;
    const dtype = options.dtype ?? "f32";
    await saveViT(vit, out, { dtype: dtype === "f16" ? "F16" : "F32" });
    // The held-out accuracy is measured on the weights as written (f16 rounding included).
    let heldOut: PretrainRecord["heldOut"] = null;
    const evalItems = options.evalItems ?? 2000;
    if (evalItems > 0) {
      const { loadViT } = await import("@kora/vit/node");
      const written = await loadViT(out);
      try {
        const test = await openDatasetSplit({ name: options.dataset, root: options.root, split: "test" });
        const n = Math.min(evalItems, test.size);
        const task = classificationTask({ classes: written.config.numClasses });
        const evalIndices = Array.from({ length: n }, (_, i) => i);
        const scores = await evaluateTask(written, task, test, {
          batchSize: 64,
          indices: evalIndices,
          labels: test.task === "classification" ? relabel(test, evalIndices) : undefined,
        });
        heldOut = { split: "test", items: n, accuracy: scores.accuracy };
      } finally {
        disposeModel(written);
      }
    }
    const bytes = await readFile(join(out, PRETRAIN_FILES.weights));
    const record: PretrainRecord = {
      command: "pretrain",
      argv: process.argv.slice(2),
      backbone: options.backbone,
      dataset: {
        name: dataset.name,
        root: options.root ?? null,
        items,
        ...(labelMap === null ? {} : { labelMap }),
      },
      training,
      dtype,
      heldOut,
      seconds,
      finalLoss: result.loss ?? Number.NaN,
      machine: {
        backend: (await import("@tensorflow/tfjs")).getBackend(),
        threads: selectedWasmThreads(),
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? "unknown",
        host: hostname(),
      },
      sha256: createHash("sha256").update(bytes).digest("hex"),
      bytes: bytes.byteLength,
    };
    // Atomic: pretrain.json marks the folder as a finished pretraining, so a torn one must never exist.
    await writeOutputFile(join(out, PRETRAIN_FILES.record), `${JSON.stringify(record, null, 2)}\n`, "--out");
    await rm(join(out, PRETRAIN_FILES.checkpoints), { recursive: true, force: true });
    output.result(
      () => record,
      () =>
        `pretrained ${options.backbone} on ${dataset.name} items ${items[0]}:${items[1]} in ${formatDuration(seconds)}` +
        (heldOut === null
          ? ""
          : `; held-out accuracy ${(heldOut.accuracy * 100).toFixed(2)} % on ${heldOut.items} test items`) +
        `\nwrote ${out} (model.safetensors ${dtype}, ${bytes.byteLength} bytes, sha256 ${record.sha256})`,
    );
  } finally {
    disposeModel(vit);
  }
}
