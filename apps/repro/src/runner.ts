import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { KoraError } from "@kora/spec";
import { selectBackend } from "@kora/tfjs";
import * as tf from "@tensorflow/tfjs";
import { defaultExperimentsDir, loadExperiments } from "./config/experiments";
import { type PresetName, resolvePreset } from "./config/presets";
import { type PlannedRun, planRuns, selectExperiments } from "./plan";
import { PlanProgress } from "./progress";
import { writeReport } from "./report/write";
import { gitState, type RunResult, readResult, writeResult } from "./results";
import { type BackboneInfo, ensureBackbone } from "./tasks/backbone";
import type { TaskContext } from "./tasks/context";
import { plannedSteps, runCka, runDense, runSource, runTransfer, type TaskOutput } from "./tasks/tasks";

/** Options of {@link runRepro} (the command line's flags). */
export interface RunReproOptions {
  /** `smoke`, `default` (the embedded default) or `paper`. */
  preset?: PresetName;
  /** Experiment ids to run (`4.1`, `4.3`, `ablation`, `controls`); default all. */
  only?: string[] | null;
  /** Number of seeds (0, 1, …, n−1); default the preset's. */
  seeds?: number;
  /** Results folder; default `repro-results/<preset>` in the working directory. */
  out?: string;
  /** Paper preset: folder with the datasets. */
  dataRoot?: string;
  /** Paper preset: ViT-B/16 weights. */
  weights?: string;
  /** Folder of the experiment files (tests). */
  experimentsDir?: string;
  /** Progress output (default: stderr). */
  write?: (text: string) => void;
  /** Rewrite the progress line in place (default: stderr is a TTY). */
  interactive?: boolean;
}

/** What {@link runRepro} returns. */
export interface RunReproResult {
  out: string;
  reportMarkdown: string;
  reportHtml: string;
  wallSeconds: number;
  runs: { total: number; ran: number; skipped: number; failed: number };
}

const EXTRA_UNITS: Record<PlannedRun["task"], number> = { source: 8, transfer: 6, cka: 3, dense: 3 };

/**
 * Runs the reproduction: pretrains (or loads) the backbone, executes every planned run that has no completed
 * result yet (a failing run is recorded and the others go on), then writes report.md / report.html.
 */
export async function runRepro(options: RunReproOptions = {}): Promise<RunReproResult> {
  const started = performance.now();
  const presetName = options.preset ?? "default";
  const presetOptions: Parameters<typeof resolvePreset>[1] = {};
  if (options.dataRoot !== undefined) presetOptions.dataRoot = options.dataRoot;
  if (options.weights !== undefined) presetOptions.weights = options.weights;
  const preset = resolvePreset(presetName, presetOptions);
  const all = loadExperiments(options.experimentsDir ?? defaultExperimentsDir());
  const experiments = selectExperiments(all, options.only ?? null);
  if (experiments.length === 0) {
    throw new KoraError({
      code: "INVALID_ARGUMENT",
      message: `--only ${options.only?.join(",")} matches no experiment (known: ${all.map((e) => e.id).join(", ")})`,
    });
  }
  const seedCount = options.seeds ?? preset.seeds;
  if (!(Number.isInteger(seedCount) && seedCount >= 1)) {
    throw new KoraError({
      code: "INVALID_ARGUMENT",
      message: `--seeds must be a positive integer, got ${seedCount}`,
    });
  }
  const seeds = Array.from({ length: seedCount }, (_, i) => i);
  const out = resolve(options.out ?? `repro-results/${preset.name}`);
  mkdirSync(out, { recursive: true });
  const write = options.write ?? ((text: string) => process.stderr.write(text));
  const interactive = options.interactive ?? process.stderr.isTTY === true;
  const log = (line: string) => write(`${interactive ? "\r\x1b[2K" : ""}${line}\n`);

  const backend = await selectBackend({ prefer: "wasm", log });
  const runs = planRuns(preset, experiments, seeds);
  const context: TaskContext = { preset, out, cacheDir: resolve(out, "cache"), onProgress: () => {}, log };
  const unitsOf = (run: PlannedRun) => plannedSteps(context, run.task) + EXTRA_UNITS[run.task];
  const pretrainUnits = preset.backbone.kind === "pretrain" ? preset.backbone.steps : 0;
  const progress = new PlanProgress(
    runs.length + 1,
    runs.reduce((n, r) => n + unitsOf(r), pretrainUnits),
    write,
    interactive,
  );
  log(
    `kora-repro: preset ${preset.name} (${preset.description}); ${runs.length} runs over ${seeds.length} seed(s); results in ${out}`,
  );
  for (const note of preset.notes) log(`note: ${note}`);

  progress.start("backbone", pretrainUnits);
  context.onProgress = (done, total) => progress.step(done, total);
  const backbone: BackboneInfo = await ensureBackbone(context);
  progress.finish(backbone.cached ? "cached" : "pretrained");

  let ran = 0;
  let skipped = 0;
  let failed = 0;
  for (const run of runs) {
    const existing = readResult(out, run.key);
    if (existing?.status === "ok") {
      skipped++;
      progress.skip(unitsOf(run));
      continue;
    }
    const source = run.sourceKey === null ? null : readResult(out, run.sourceKey);
    progress.start(run.name, unitsOf(run));
    const startedAt = new Date();
    const t0 = performance.now();
    let output: TaskOutput | null = null;
    let error: RunResult["error"] = null;
    const tensorsBefore = tf.memory().numTensors;
    try {
      if (source !== null && source.status !== "ok") {
        throw new KoraError({
          code: "SOURCE_FAILED",
          message: `its source run ${run.sourceKey} failed: ${source.error?.message ?? "?"}`,
        });
      }
      const task = { source: runSource, transfer: runTransfer, cka: runCka, dense: runDense }[run.task];
      output = await task(context, backbone, run);
    } catch (caught) {
      const e = caught as Error & { code?: string };
      error = {
        message: e?.message ?? String(caught),
        code: typeof e?.code === "string" ? e.code : null,
        stack: e?.stack ?? null,
      };
      failed++;
    }
    const leaked = tf.memory().numTensors - tensorsBefore;
    const result: RunResult = {
      format: 1,
      key: run.key,
      name: run.name,
      status: output === null ? "failed" : "ok",
      task: run.task,
      method: run.method,
      seed: run.seed,
      shuffleLabels: run.shuffleLabels,
      sourceKey: run.sourceKey,
      usedBy: run.usedBy,
      preset: { name: preset.name, config: { ...preset } },
      git: gitState(),
      backend,
      node: process.version,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      timings: {
        totalSeconds: (performance.now() - t0) / 1000,
        trainSeconds: output?.trainSeconds ?? 0,
        evalSeconds: output?.evalSeconds ?? 0,
      },
      metrics: output?.metrics ?? {},
      curve: output?.curve ?? [],
      extra: { ...(output?.extra ?? {}), tensorsLeaked: leaked },
      error,
    };
    writeResult(out, result);
    if (output !== null) ran++;
    progress.finish(output === null ? `FAILED (${error?.message.split("\n")[0]})` : "ok");
  }

  const wallSeconds = (performance.now() - started) / 1000;
  const report = await writeReport({
    out,
    preset,
    experiments,
    runs,
    seeds,
    backbone,
    backend,
    wallSeconds,
    counts: { ran, skipped, failed },
  });
  log(`report: ${report.markdown}`);
  log(`report: ${report.html}`);
  return {
    out,
    reportMarkdown: report.markdown,
    reportHtml: report.html,
    wallSeconds,
    runs: { total: runs.length, ran, skipped, failed },
  };
}
