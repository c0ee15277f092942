import { spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { selectBackend } from "@kora/tfjs";
import { type PresetName, resolvePreset } from "./config/presets";
import { reportDamaged } from "./damaged";
import { executeRun } from "./execute-run";
import { appRoot } from "./paths";
import { type PlannedRun, planRuns } from "./plan";
import { selectPlan } from "./plan-selection";
import { PlanProgress } from "./progress";
import { writeReport } from "./report/write";
import { type RunResult, readResult, writeResult } from "./results";
import { shardRuns } from "./shards";
import { type BackboneInfo, ensureBackbone } from "./tasks/backbone";
import type { TaskContext } from "./tasks/context";
import { featuresProblem } from "./tasks/features-file";
import { plannedSteps } from "./tasks/tasks";

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
  /**
   * Worker processes that share the plan (default: the preset's `jobs`, else 1). Each takes whole chains of runs
   * (a source run with the runs that load its model) with one wasm thread; this process then writes the report.
   */
  jobs?: number;
  /** Internal (`--shard i/n`): run only this worker's share of the plan and write no report. */
  shard?: { index: number; count: number } | undefined;
}

/** What {@link runRepro} returns. */
export interface RunReproResult {
  out: string;
  reportMarkdown: string;
  reportHtml: string;
  wallSeconds: number;
  runs: { total: number; ran: number; skipped: number; failed: number };
}

const EXTRA_UNITS: Record<PlannedRun["task"], number> = {
  source: 8,
  transfer: 6,
  cka: 3,
  compress: 12,
  dense: 3,
  segment: 3,
};

/**
 * Runs the reproduction: pretrains (or loads) the backbone, executes every planned run that has no completed
 * result yet (a failing run is recorded and the others go on), then writes report.md / report.html.
 */
export async function runRepro(options: RunReproOptions = {}): Promise<RunReproResult> {
  const started = performance.now();
  const invocationStarted = Date.now();
  const presetName = options.preset ?? "default";
  const presetOptions: Parameters<typeof resolvePreset>[1] = {};
  if (options.dataRoot !== undefined) presetOptions.dataRoot = options.dataRoot;
  if (options.weights !== undefined) presetOptions.weights = options.weights;
  const preset = resolvePreset(presetName, presetOptions);
  const { experiments, seeds } = selectPlan(preset, options);
  const out = resolve(options.out ?? `repro-results/${preset.name}`);
  mkdirSync(out, { recursive: true });
  const write = options.write ?? ((text: string) => process.stderr.write(text));
  const interactive = options.interactive ?? process.stderr.isTTY === true;
  const log = (line: string) => write(`${interactive ? "\r\x1b[2K" : ""}${line}\n`);

  const backend = await selectBackend({
    prefer: "wasm",
    log,
    ...(preset.threads === undefined ? {} : { threads: preset.threads }),
  });
  const runs = planRuns(preset, experiments, seeds);
  const context: TaskContext = { preset, out, cacheDir: resolve(out, "cache"), onProgress: () => {}, log };
  const unitsOf = (run: PlannedRun) => plannedSteps(context, run.task) + EXTRA_UNITS[run.task];
  const pretrainUnits = preset.backbone.kind === "pretrain" ? preset.backbone.steps : 0;
  // A worker (`--shard`) counts its own share of the plan, so its lines end at [n/n] and 100 %.
  const mine =
    options.shard === undefined
      ? null
      : (shardRuns(runs, options.shard.count, unitsOf)[options.shard.index] ?? null);
  const myRuns = mine === null ? runs : runs.filter((run) => mine.has(run.key));
  const progress = new PlanProgress(
    myRuns.length + 1,
    myRuns.reduce((n, r) => n + unitsOf(r), pretrainUnits),
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

  const jobs = options.shard === undefined ? (options.jobs ?? preset.jobs ?? 1) : 1;
  if (jobs > 1 && runs.length > 1) {
    await runWorkers(jobs, options, presetName, out, log);
  }

  let ran = 0;
  let skipped = 0;
  let failed = 0;
  for (const run of runs) {
    if (mine !== null && !mine.has(run.key)) continue;
    // A damaged result file is moved aside with a warning, and its run runs again (so does a CKA run whose
    // feature files are damaged or missing: the report reads them).
    let existing = readResult(out, run.key, log);
    if (existing?.status === "ok") {
      const broken = damagedFeatures(out, existing);
      for (const { path, reason } of broken) {
        const then = `${run.name} runs again`;
        if (reason === "it is missing" || !isUnder(out, path)) log(`warning: ${path}: ${reason}; ${then}`);
        else reportDamaged(out, path, reason, then, log);
      }
      if (broken.length > 0) existing = null;
    }
    if (existing?.status === "ok") {
      // Completed by a worker of this invocation: it ran now; otherwise it was there before.
      if (Date.parse(existing.startedAt) >= invocationStarted) ran++;
      else skipped++;
      progress.skip(unitsOf(run));
      continue;
    }
    const source = run.sourceKey === null ? null : readResult(out, run.sourceKey, log);
    progress.start(run.name, unitsOf(run));
    const result = await executeRun(context, backbone, run, source, backend);
    writeResult(out, result);
    if (result.status === "ok") ran++;
    else failed++;
    progress.finish(result.status === "ok" ? "ok" : `FAILED (${result.error?.message.split("\n")[0]})`);
  }

  const wallSeconds = (performance.now() - started) / 1000;
  if (options.shard !== undefined) {
    return {
      out,
      reportMarkdown: "",
      reportHtml: "",
      wallSeconds,
      runs: { total: runs.length, ran, skipped, failed },
    };
  }
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
    log,
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

/**
 * The feature files of a completed CKA run (`extra.features`, which the report reads) that are missing or cannot be
 * read, each with the reason; empty for other runs. A file named outside the results folder counts as unreadable.
 */
function damagedFeatures(out: string, result: RunResult): { path: string; reason: string }[] {
  const files = result.extra["features"];
  if (result.task !== "cka" || files === null || typeof files !== "object") return [];
  const broken: { path: string; reason: string }[] = [];
  for (const name of Object.values(files as Record<string, unknown>)) {
    if (typeof name !== "string") continue;
    const path = resolve(out, name);
    const reason = isUnder(out, path) ? featuresProblem(path) : "it is outside the results folder";
    if (reason !== null) broken.push({ path, reason });
  }
  return broken;
}

/** Whether `path` lies inside the folder `out`. */
function isUnder(out: string, path: string): boolean {
  const under = relative(resolve(out), resolve(path));
  return under !== "" && !under.startsWith("..") && !isAbsolute(under);
}

/**
 * Runs the plan's shares in `jobs` worker processes (`kora-repro --shard i/jobs`, one wasm thread each) and waits
 * for all of them; their results land in `out/runs`, where the caller then finds every run complete. A worker that
 * fails leaves its unfinished runs to the caller, which runs them itself.
 */
async function runWorkers(
  jobs: number,
  options: RunReproOptions,
  preset: string,
  out: string,
  log: (line: string) => void,
): Promise<void> {
  const cli = join(appRoot(), "dist", "cli.js");
  if (!existsSync(cli)) {
    log(`kora-repro: ${cli} is not built; running the plan in this process`);
    return;
  }
  log(`kora-repro: ${jobs} worker processes, one wasm thread each`);
  const args = (index: number) => [
    cli,
    "--preset",
    preset,
    "--out",
    out,
    "--shard",
    `${index}/${jobs}`,
    ...(options.only ? ["--only", options.only.join(",")] : []),
    ...(options.seeds === undefined ? [] : ["--seeds", String(options.seeds)]),
    ...(options.dataRoot === undefined ? [] : ["--data-root", options.dataRoot]),
    ...(options.weights === undefined ? [] : ["--weights", options.weights]),
  ];
  const codes = await Promise.all(
    Array.from(
      { length: jobs },
      (_, index) =>
        new Promise<number>((done) => {
          const child = spawn(process.execPath, args(index), {
            env: { ...process.env, KORA_WASM_THREADS: "1" },
            stdio: ["ignore", "ignore", "pipe"],
          });
          let pending = "";
          child.stderr.on("data", (chunk: Buffer) => {
            pending += chunk.toString();
            const lines = pending.split(/[\n\r]/);
            pending = lines.pop() ?? "";
            for (const line of lines)
              if (/\] .*(ok|FAILED|cached)|kora-repro:/.test(line)) log(`[worker ${index}] ${line.trim()}`);
          });
          child.on("close", (code) => done(code ?? 1));
          child.on("error", () => done(1));
        }),
    ),
  );
  if (codes.some((code) => code !== 0)) {
    log(`kora-repro: a worker exited with ${codes.join(", ")}; its unfinished runs run here`);
  }
}
