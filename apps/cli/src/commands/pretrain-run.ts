import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
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
import { prepareOutputFolder, removeCreatedFolders } from "../run/output-folder";
import { lockRunFolder } from "../run/run-lock";
import { useBackend } from "../support/backend";
import { UsageError } from "../support/errors";

/** Options of `kora pretrain`, as commander parses them. */
export interface PretrainCommandOptions {
  backbone?: string;
  dataset?: string;
  root?: string;
  items?: string;
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
  dataset: { name: string; root: string | null; items: [number, number] };
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
  if (options.resume !== true) {
    const found = Object.values(PRETRAIN_FILES).filter((name) => existsSync(join(out, name)));
    if (found.length > 0) {
      throw new KoraError({
        code: "OUTPUT_EXISTS",
        message: `--out: ${out} already holds ${found.join(", ")}; continue an interrupted pretraining with --resume, or choose another folder`,
      });
    }
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
  const training = {
    steps: options.steps,
    batchSize: options.batchSize ?? 64,
    lr: options.lr ?? 1e-3,
    weightDecay: options.weightDecay ?? 0.05,
    warmup: options.warmup ?? Math.max(1, Math.round(options.steps * 0.1)),
    init: options.init ?? "lecun",
    seed: options.seed ?? 0,
  };
  const metricsPath = join(out, PRETRAIN_FILES.metrics);
  const stop = new AbortController();
  const onSignal = (): void => {
    if (stop.signal.aborted) process.exit(130);
    stop.abort();
    progress?.stop();
    output.note("\nkora: stopping after this step (saving a checkpoint); --resume continues", true);
  };
  let progress: ReturnType<typeof createProgress> | null = null;
  const lines: string[] = [];
  const onStep = async (event: StepEvent): Promise<void> => {
    progress ??= createProgress(output, {
      label: `pretrain ${options.backbone}`,
      total: training.steps,
      start: event.step - 1,
      detail: true,
    });
    lines.push(
      JSON.stringify({
        step: event.step,
        loss: event.loss,
        lr: event.learningRate,
        gradientNorm: event.gradientNorm,
        imagesPerSecond: event.imagesPerSecond,
        elapsedSeconds: event.elapsedSeconds,
      }),
    );
    if (lines.length >= 50 || event.step === training.steps) {
      await writeFile(metricsPath, `${lines.join("\n")}\n`, { flag: "a" });
      lines.length = 0;
    }
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
        },
        everySteps: options.checkpointEvery ?? 500,
      },
      signal: stop.signal,
      onStep,
    });
  } finally {
    process.off("SIGINT", onSignal);
    (progress as ReturnType<typeof createProgress> | null)?.stop();
    if (lines.length > 0) await writeFile(metricsPath, `${lines.join("\n")}\n`, { flag: "a" });
  }
  const vit = result.vit;
  try {
    if (result.stopped) {
      output.note(
        `kora: stopped at step ${result.step}; 'kora pretrain --resume --out ${out} …' continues`,
        true,
      );
      process.exitCode = 130;
      return;
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
        const scores = await evaluateTask(written, task, test, {
          batchSize: 64,
          indices: Array.from({ length: n }, (_, i) => i),
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
      dataset: { name: dataset.name, root: options.root ?? null, items },
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
    await writeFile(join(out, PRETRAIN_FILES.record), `${JSON.stringify(record, null, 2)}\n`);
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
