// `kora-repro --dry-run`: the plan (experiments, runs) and its estimated wall time on this machine, from step
// rates measured here on the preset's model, without training anything or writing results.
import { KoraError } from "@kora/spec";
import {
  adamW,
  applyAdapters,
  crossEntropy,
  resetWasmHeapPeak,
  selectBackend,
  selectedWasmThreads,
  wasmHeapStats,
} from "@kora/tfjs";
import { createViT, resolveViTConfig, type ViT, type ViTConfigInput } from "@kora/vit";
import * as tf from "@tensorflow/tfjs";
import { defaultExperimentsDir, loadExperiments } from "./config/experiments";
import { type Preset, type PresetName, resolvePreset } from "./config/presets";
import type { TrainingMethod } from "./config/schema";
import { type PlannedRun, planRuns, selectExperiments } from "./plan";

/** Options of {@link dryRun} (the command line's flags). */
export interface DryRunOptions {
  preset?: PresetName;
  only?: string[] | null;
  seeds?: number;
  dataRoot?: string;
  weights?: string;
  experimentsDir?: string;
  /** Worker processes sharing the runs (`--jobs`; default the preset's, else 1). */
  jobs?: number;
  /** The larger batch of the timing probe (default: the preset's batch, at most 4; the other is half of it). */
  probeBatch?: number;
  /** Where the plan and the estimate are printed (default: stdout). */
  write?: (text: string) => void;
}

/** How a run's images are processed: what one image costs depends only on this. */
type Work = "adapter" | "full" | "head-only" | "forward";

/** Images each run processes, by kind of work. */
export interface RunCost {
  run: PlannedRun;
  images: Partial<Record<Work, number>>;
  seconds: number;
}

/** One step's time as measured: `fixedSeconds + perImageSeconds · batch`. */
export interface StepCost {
  fixedSeconds: number;
  perImageSeconds: number;
}

/** What {@link dryRun} returns. */
export interface DryRunResult {
  preset: string;
  runs: RunCost[];
  /** Measured step cost per kind of work (per process), and the probe's larger batch. */
  costs: Record<Work, StepCost>;
  probeBatch: number;
  /** Whether the preset's batch needs activation recomputation on the wasm heap (the probe then recomputes). */
  recompute: boolean;
  /** Worker processes the runs are shared by (`jobs`). */
  jobs: number;
  /** Estimated wall time, seconds. */
  seconds: number;
}

/**
 * Official split sizes of the file datasets (as `@kora/datasets` checks them), for file datasets whose size the
 * preset does not state; the synthetic suites take the preset's `trainSize` / `testSize`.
 */
const SPLIT_SIZES: Record<string, { train: number; eval: number }> = {
  cifar100: { train: 50_000, eval: 10_000 },
  "tiny-imagenet": { train: 100_000, eval: 10_000 },
  "fashion-mnist": { train: 60_000, eval: 10_000 },
  "nyu-depth-v2": { train: 795, eval: 654 },
};

function sizes(data: { dataset: string; trainSize?: number; testSize?: number }): {
  train: number;
  eval: number;
} {
  const official = SPLIT_SIZES[data.dataset];
  return {
    train: data.trainSize ?? official?.train ?? 0,
    eval: data.testSize ?? official?.eval ?? 0,
  };
}

function workOf(method: TrainingMethod): Work | null {
  if (method.kind === "adapter" || method.kind === "full" || method.kind === "head-only") return method.kind;
  return null; // pixel probe and constant predictor: no ViT work
}

/** Images of ViT work a run does: training (epochs × items, or steps × batch) and evaluation forward passes. */
export function runImages(preset: Preset, run: PlannedRun): Partial<Record<Work, number>> {
  const work = workOf(run.method);
  const batch = preset.batchSize;
  const images: Partial<Record<Work, number>> = {};
  const add = (kind: Work, count: number) => {
    images[kind] = (images[kind] ?? 0) + count;
  };
  switch (run.task) {
    case "source": {
      const size = sizes(preset.source);
      const items = preset.source.trainItems ?? size.train;
      const trained =
        preset.source.steps !== undefined ? preset.source.steps * batch : (preset.source.epochs ?? 1) * items;
      if (work !== null) add(work, trained);
      if (work !== null) add("forward", preset.source.evalSize ?? size.eval);
      break;
    }
    case "transfer": {
      const size = sizes(preset.target);
      const items = preset.target.count ?? Math.round(size.train * preset.target.fraction);
      if (work !== null) add(work, items * preset.target.epochs);
      if (work !== null) add("forward", preset.target.evalSize ?? size.eval);
      break;
    }
    case "dense": {
      const size = sizes(preset.depth);
      const items = Math.round(size.train * preset.depth.fraction);
      const trained =
        preset.depth.steps !== undefined ? preset.depth.steps * batch : items * preset.depth.epochs;
      if (work !== null) add(work, trained);
      if (work !== null) add("forward", preset.depth.evalSize ?? size.eval);
      break;
    }
    case "cka":
      // The adapted model's and the backbone's feature taps over the CKA examples.
      add("forward", 2 * preset.ckaExamples);
      break;
  }
  return images;
}

/**
 * Prints the plan of a preset and its estimated wall time: every planned run with the images it trains and
 * evaluates, and step costs measured here on the preset's model (random weights — the cost does not depend on
 * their values — on the backend and thread count the runs would use): per kind of work, one warm-up and one timed
 * step at two small batches give a fixed cost per step and a cost per image, so a run costs
 * `steps · (fixed + perImage · batch)` at the preset's batch. Whether that batch needs activation recomputation is
 * predicted from the heap a plain step takes per image; the probe then recomputes. The total is divided over the
 * preset's worker processes (runs that wait for their source run are not modelled).
 */
export async function dryRun(options: DryRunOptions = {}): Promise<DryRunResult> {
  const write = options.write ?? ((text: string) => process.stdout.write(text));
  const say = (line: string) => write(`${line}\n`);
  const presetOptions: Parameters<typeof resolvePreset>[1] = { checkFiles: false };
  if (options.dataRoot !== undefined) presetOptions.dataRoot = options.dataRoot;
  if (options.weights !== undefined) presetOptions.weights = options.weights;
  const preset = resolvePreset(options.preset ?? "default", presetOptions);
  const all = loadExperiments(options.experimentsDir ?? defaultExperimentsDir()).filter(
    (experiment) => !experiment.extended || preset.name === "extended" || preset.name === "smoke",
  );
  const experiments = selectExperiments(all, options.only ?? null);
  if (experiments.length === 0) {
    throw new KoraError({
      code: "INVALID_ARGUMENT",
      message: `--only ${options.only?.join(",")} matches no experiment (known: ${all.map((e) => e.id).join(", ")})`,
    });
  }
  const seeds = Array.from({ length: options.seeds ?? preset.seeds }, (_, i) => i);
  const runs = planRuns(preset, experiments, seeds);
  const jobs = options.jobs ?? preset.jobs ?? 1;
  say(`kora-repro --dry-run: preset ${preset.name} (${preset.description})`);
  for (const note of preset.notes) say(`note: ${note}`);
  say(`experiments: ${experiments.map((e) => e.id).join(", ")}; seeds: ${seeds.length}; ${runs.length} runs`);

  const model = resolveViTConfig(preset.model as ViTConfigInput);
  const probeBatch = options.probeBatch ?? Math.min(4, preset.batchSize);
  say(
    `measuring step costs: ${model.depth} blocks, D = ${model.dim}, ${model.imageSize}×${model.imageSize}, batches ${Math.max(1, probeBatch >> 1)} and ${probeBatch} (the runs use ${preset.batchSize}) …`,
  );
  const adapterRun = runs.find((run) => run.method.kind === "adapter")?.method;
  const adapter = adapterRun?.kind === "adapter" ? adapterRun.adapter : { method: "kora" as const, rank: 8 };
  const probe = await measureRates(preset, probeBatch, adapter as Parameters<typeof applyAdapters>[1]);
  const secondsFor = (work: Work, images: number, batch = preset.batchSize) => {
    const cost = probe.costs[work];
    return Math.ceil(images / batch) * (cost.fixedSeconds + cost.perImageSeconds * batch);
  };
  say(
    `  wasm, ${selectedWasmThreads() ?? 1} thread(s) per process${probe.recompute ? ", activation recomputation (the preset's batch does not fit the heap without it)" : ""}; at batch ${preset.batchSize}: ` +
      (Object.keys(probe.costs) as Work[])
        .map((work) => {
          const rate = preset.batchSize / secondsFor(work, preset.batchSize);
          return `${work} ${rate.toFixed(rate < 10 ? 3 : 1)} img/s`;
        })
        .join(", "),
  );

  const costs: RunCost[] = runs.map((run) => {
    const images = runImages(preset, run);
    const seconds = (Object.entries(images) as [Work, number][]).reduce(
      (sum, [work, count]) => sum + secondsFor(work, count),
      0,
    );
    return { run, images, seconds };
  });
  const pretrain =
    preset.backbone.kind === "pretrain"
      ? secondsFor("full", preset.backbone.steps * preset.backbone.batchSize, preset.backbone.batchSize)
      : 0;
  if (preset.backbone.kind === "pretrain") {
    say(
      `backbone pretraining: ${preset.backbone.steps} steps × ${preset.backbone.batchSize} images ≈ ${duration(pretrain)}`,
    );
  }
  say("");
  say("run                                                         train images    eval images   estimated");
  for (const { run, images, seconds } of costs) {
    const trained = (images.adapter ?? 0) + (images.full ?? 0) + (images["head-only"] ?? 0);
    say(
      `${run.name.slice(0, 58).padEnd(58)} ${String(trained).padStart(14)} ${String(images.forward ?? 0).padStart(14)}   ${duration(seconds)}`,
    );
  }
  const total = costs.reduce((sum, cost) => sum + cost.seconds, 0);
  const seconds = pretrain + total / jobs;
  say("");
  say(
    `estimated wall time: ${duration(seconds)} (${runs.length} runs, ${duration(total)} of work${jobs > 1 ? ` over ${jobs} worker processes` : ""}${pretrain > 0 ? ", backbone pretraining first" : ""}; training and evaluation passes only, not data loading or per-run setup); nothing was trained or written`,
  );
  return {
    preset: preset.name,
    runs: costs,
    costs: probe.costs,
    probeBatch,
    recompute: probe.recompute,
    jobs,
    seconds,
  };
}

/** `1 h 05 min`, `3 min 20 s`, `12 s`; days beyond 48 h. */
export function duration(seconds: number): string {
  if (seconds >= 48 * 3600) return `${(seconds / 86_400).toFixed(1)} days`;
  if (seconds >= 3600)
    return `${Math.floor(seconds / 3600)} h ${String(Math.round((seconds % 3600) / 60)).padStart(2, "0")} min`;
  if (seconds >= 60)
    return `${Math.floor(seconds / 60)} min ${String(Math.round(seconds % 60)).padStart(2, "0")} s`;
  return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
}

/** The step cost per kind of work on this machine, and whether the preset's batch recomputes. */
async function measureRates(
  preset: Preset,
  batch: number,
  adapter: Parameters<typeof applyAdapters>[1],
): Promise<{ costs: Record<Work, StepCost>; recompute: boolean }> {
  await selectBackend({
    prefer: "wasm",
    log: () => {},
    ...(preset.threads === undefined ? {} : { threads: preset.threads }),
  });
  const config = { ...(preset.model as ViTConfigInput) };
  const { imageSize, channels, numClasses } = resolveViTConfig(config);
  const classes = Math.max(2, numClasses);
  const small = Math.max(1, batch >> 1);
  const inputs = [small, batch].map((size) => ({
    size,
    pixels: tf.randomNormal([size, imageSize, imageSize, channels], 0, 1, "float32", 1) as tf.Tensor4D,
    labels: tf.tensor1d(
      Array.from({ length: size }, (_, i) => i % classes),
      "int32",
    ),
  }));
  type Model = { vit: ViT; variables: tf.Variable[] };
  const build = (work: Exclude<Work, "forward">, recompute: boolean): Model => {
    const vit = createViT({ ...config, numClasses: classes }, { seed: 0, recompute });
    if (work === "full") return { vit, variables: vit.trainableVariables() };
    if (work === "head-only") {
      vit.setBackboneTrainable(false);
      return { vit, variables: vit.trainableVariables() };
    }
    return { vit, variables: applyAdapters(vit, adapter, { seed: 0 }).trainableVariables() };
  };
  /**
   * Seconds of one step at each probe batch: every batch warmed up first (a short step twice: the first steps at a
   * new shape are slower), then rounds of one timed step per batch, the fastest kept — a few rounds (up to 2 s)
   * when steps are short, since a small model's single step is at the mercy of a shared machine's scheduler.
   */
  const time = (model: Model | null) => {
    const optimizer = adamW({ learningRate: 1e-4 });
    const steps = inputs.map(({ pixels, labels }) => () => {
      if (model === null) {
        tf.tidy(() => createdForward.forward(pixels, { format: "NHWC" }).logits!.dataSync());
        return;
      }
      const { value, grads } = tf.tidy(() =>
        tf.variableGrads(
          () => crossEntropy(model.vit.forward(pixels, { format: "NHWC", training: true }).logits!, labels),
          model.variables,
        ),
      );
      optimizer.applyGradients(
        model.variables.map((variable) => ({
          name: variable.name,
          variable,
          gradient: grads[variable.name]!,
        })),
      );
      value.dataSync();
      tf.dispose([value, ...Object.values(grads)]);
    });
    const timed = (step: () => void) => {
      const t0 = performance.now();
      step();
      return (performance.now() - t0) / 1000;
    };
    const short = steps.map((step) => timed(step) < 0.5);
    steps.forEach((step, i) => {
      if (short[i]) step();
    });
    const best = steps.map(() => Number.POSITIVE_INFINITY);
    const until = performance.now() + 2000;
    for (let round = 0; round < 5 && (round === 0 || performance.now() < until); round++) {
      steps.forEach((step, i) => {
        best[i] = Math.min(best[i] as number, timed(step));
      });
    }
    optimizer.dispose();
    const [a, b] = inputs.map((input, i) => ({ size: input.size, seconds: best[i] as number })) as [
      { size: number; seconds: number },
      { size: number; seconds: number },
    ];
    const perImageSeconds =
      b.size > a.size ? Math.max(0, (b.seconds - a.seconds) / (b.size - a.size)) : b.seconds / b.size;
    const cost: StepCost = {
      fixedSeconds: Math.max(0, b.seconds - perImageSeconds * b.size),
      perImageSeconds,
    };
    return { cost };
  };
  const createdForward = createViT({ ...config, numClasses: classes }, { seed: 0 });
  // A plain adapter step at batch 1 first (it fits wherever anything does): the heap it adds, per image, says
  // whether the preset's batch fits without recomputation. An overestimate (the step's fixed part counts as per
  // image), so the estimate errs towards recomputing.
  const plain = build("adapter", false);
  const one = inputs[0] as (typeof inputs)[0];
  const heapOf = () => {
    const { value, grads } = tf.tidy(() =>
      tf.variableGrads(
        () =>
          crossEntropy(
            plain.vit.forward(one.pixels.slice(0, 1), { format: "NHWC", training: true }).logits!,
            one.labels.slice(0, 1),
          ),
        plain.variables,
      ),
    );
    tf.dispose([value, ...Object.values(grads)]);
  };
  heapOf();
  resetWasmHeapPeak();
  const live = wasmHeapStats()?.liveBytes ?? null;
  heapOf();
  const heap = wasmHeapStats();
  plain.vit.dispose();
  const recompute =
    live !== null &&
    heap !== null &&
    (heap.peakBytes - live) * preset.batchSize > heap.limitBytes - heap.liveBytes;
  const costs = {} as Record<Work, StepCost>;
  for (const work of ["adapter", "full", "head-only"] as const) {
    const model = build(work, recompute);
    costs[work] = time(model).cost;
    model.vit.dispose();
  }
  costs.forward = time(null).cost;
  createdForward.dispose();
  tf.dispose(inputs.flatMap(({ pixels, labels }) => [pixels, labels]));
  return { costs, recompute };
}
