// One backend's figures for the benchmark suite (run by bench/bench.mjs in a fresh process per backend, so the
// wasm heap and the peak RSS belong to that backend alone). Prints human lines on stderr and one JSON object as
// the last line of stdout. Not a test: no thresholds.
//
//   node bench/vit-step.mjs --backend wasm [--threads auto|N] [--batch 32] [--repeats 5] [--steps 3] [--methods lora,kora]
//        [--memory-steps 100] [--recompute auto|true|false] [--quick]
//   node bench/vit-step.mjs --backend wasm --recompute-profile 64    # LoRA steps with and without recomputation
//   node bench/vit-step.mjs --backend wasm --paper-step              # ViT-B/16 at 224, LoRA and KoRA, recomputed,
//                                                                    # at the largest batch that fits the heap
//
// The GEMM reference (the backend's 1024³ matMul rate) is sampled before and after the steps: a step's fraction of
// GEMM is reported against the median and the best sample, and `gemm.disagree` is set when the samples spread by
// more than 10 % of their median (the machine's speed changed during the run; the ratio is then not printed).
import { parseArgs } from "node:util";
import { stepFlops } from "./lib/flops.mjs";
import { stats } from "./lib/stats.mjs";
import { tfjsModule } from "./lib/tf.mjs";

const tf = await tfjsModule();
const kora = await import("../packages/tfjs/dist/index.js");
const vitPackage = await import("../packages/vit/dist/index.js");

const { values: args } = parseArgs({
  options: {
    backend: { type: "string", default: "wasm" },
    batch: { type: "string", default: "32" },
    repeats: { type: "string", default: "5" },
    steps: { type: "string", default: "3" },
    warmup: { type: "string", default: "2" },
    methods: { type: "string", default: "lora,kora,adapter-fusion,head-only,full" },
    "memory-steps": { type: "string", default: "100" },
    "memory-method": { type: "string", default: "kora" },
    "memory-batch": { type: "string" },
    "gemm-size": { type: "string", default: "1024" },
    threads: { type: "string" },
    recompute: { type: "string", default: "auto" },
    "recompute-profile": { type: "string" },
    "profile-modes": { type: "string", default: "recomputed,plain" },
    "paper-step": { type: "boolean", default: false },
    quick: { type: "boolean", default: false },
    "no-inference": { type: "boolean", default: false },
  },
});

const backend = args.backend;
const batch = Number(args.batch);
const repeats = Number(args.repeats);
const stepsPerRepeat = Number(args.steps);
const warmup = Number(args.warmup);
const methods = args.methods.split(",").filter(Boolean);
const memorySteps = Number(args["memory-steps"]);
const gemmSize = Number(args["gemm-size"]);
const log = (line) => process.stderr.write(`${line}\n`);
const RECOMPUTE = { auto: "auto", true: true, false: false };
if (!(args.recompute in RECOMPUTE))
  throw new Error(`--recompute must be auto, true or false, got ${args.recompute}`);
const recompute = RECOMPUTE[args.recompute];
/** GEMM samples that spread by more than this fraction of their median make `stepOverGemm` unreadable. */
const GEMM_DISAGREEMENT = 0.1;

const threads =
  args.threads === undefined ? undefined : args.threads === "auto" ? "auto" : Number(args.threads);
await kora.selectBackend({ prefer: backend, log, ...(threads === undefined ? {} : { threads }) });

/** The ViT-Tiny shape of issue 10 (32×32, patch 4, 100 classes); `--quick` shrinks it to a 2-block toy. */
const config = args.quick
  ? { preset: "vit-tiny-32", depth: 2, numClasses: 100 }
  : { preset: "vit-tiny-32", numClasses: 100 };

const SPECS = {
  lora: { method: "lora", rank: 8, alpha: 8, targets: ["query", "key", "value"] },
  kora: { method: "kora", rank: 8, alpha: 8, composition: { kind: "mlp", hidden: 4 } },
  "adapter-fusion": { method: "adapter-fusion" },
};

/** Builds the model for a method; returns it with the variables the step trains. */
function build(method, mode = recompute, shape = config) {
  const vit = vitPackage.createViT(shape, { seed: 1, recompute: mode });
  if (method === "full") return { vit, variables: vit.trainableVariables(), dispose: () => vit.dispose() };
  if (method === "head-only") {
    vit.setBackboneTrainable(false);
    return { vit, variables: vit.trainableVariables(), dispose: () => vit.dispose() };
  }
  const handle = kora.applyAdapters(vit, SPECS[method], { seed: 2 });
  return {
    vit,
    variables: handle.trainableVariables(),
    dispose: () => {
      kora.removeAdapters(vit);
      vit.dispose();
    },
  };
}

const { imageSize, channels } = vitPackage.resolveViTConfig(config);
const inputs = (size, side = imageSize) => ({
  pixels: tf.randomNormal([size, side, side, channels], 0, 1, "float32", 3),
  labels: tf.tensor1d(
    Array.from({ length: size }, (_, i) => (i * 37) % 100),
    "int32",
  ),
});
const { pixels, labels } = inputs(batch);

/** One training step exactly as `train()` runs it: variableGrads over the trainable variables, then AdamW. */
function makeStep(model, optimizer, data = { pixels, labels }) {
  const named = model.variables.map((variable) => ({ name: variable.name, variable }));
  return () => {
    const { value, grads } = tf.tidy(() =>
      tf.variableGrads(() => {
        const { logits } = model.vit.forward(data.pixels, { format: "NHWC", training: true });
        return kora.crossEntropy(logits, data.labels);
      }, model.variables),
    );
    optimizer.applyGradients(named.map((entry) => ({ ...entry, gradient: grads[entry.variable.name] })));
    const loss = value.dataSync()[0]; // synchronise (never return a typed array from tf.tidy)
    value.dispose();
    tf.dispose(grads);
    return loss;
  };
}

/** min/median/max of `repeats` timings of `count` calls of `fn`, as items per second. */
function rate(fn, count, itemsPerCall) {
  const perSecond = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    for (let i = 0; i < count; i++) fn();
    perSecond.push((count * itemsPerCall) / ((performance.now() - t0) / 1000));
  }
  return stats(perSecond);
}

/** `repeats` samples of the backend's GEMM rate (GFLOP/s of a gemmSize³ fp32 matMul, 2 products per sample). */
function gemmSamples() {
  const a = tf.randomUniform([gemmSize, gemmSize], -1, 1, "float32", 5);
  const b = tf.randomUniform([gemmSize, gemmSize], -1, 1, "float32", 6);
  const run = () => {
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
  };
  run();
  const flops = 2 * gemmSize ** 3;
  const result = rate(run, args.quick ? 1 : 2, flops / 1e9);
  tf.dispose([a, b]);
  return result.samples;
}

/**
 * The GEMM reference from samples taken before and after the steps: median and best, and whether the samples
 * disagree (spread over median above {@link GEMM_DISAGREEMENT}), in which case no step/GEMM ratio is read from it.
 */
function gemmReference(before, after) {
  const all = stats([...before, ...after]);
  const spread = (all.max - all.min) / all.median;
  return {
    size: gemmSize,
    gflops: all,
    before: stats(before),
    after: after.length > 0 ? stats(after) : null,
    best: all.max,
    spread,
    disagree: spread > GEMM_DISAGREEMENT,
  };
}

const results = {
  backend,
  threads: kora.selectedWasmThreads(),
  batch,
  config,
  repeats,
  stepsPerRepeat,
  methods: {},
};
const started = performance.now();

if (args["recompute-profile"] !== undefined) {
  await recomputeProfile(Number(args["recompute-profile"]));
  process.exit(0);
}
if (args["paper-step"]) {
  paperStep();
  process.exit(0);
}

const gemmBefore = gemmSamples();
log(
  `${backend}: GEMM ${gemmSize}³ fp32 ${stats(gemmBefore).median.toFixed(1)} GFLOP/s (median, before the steps)`,
);

// Every method is built first and the repeats are interleaved (lora, kora, …, lora, kora, …) so that the load
// of a shared machine hits all methods alike and their ratios stay meaningful.
const runs = methods.map((method) => {
  const model = build(method);
  const optimizer = kora.adamW({ learningRate: 1e-3 });
  const step = makeStep(model, optimizer);
  for (let i = 0; i < warmup; i++) step();
  return { method, model, optimizer, step, samples: [] };
});
for (let r = 0; r < repeats; r++) {
  for (const run of runs) {
    const t0 = performance.now();
    for (let i = 0; i < stepsPerRepeat; i++) run.step();
    run.samples.push((stepsPerRepeat * batch) / ((performance.now() - t0) / 1000));
  }
}
for (const { method, model, optimizer, samples } of runs) {
  const imagesPerSecond = stats(samples);
  const flops = stepFlops(vitPackage.resolveViTConfig(config), method, batch, SPECS[method]);
  const gflops = (imagesPerSecond.median * flops.total) / batch / 1e9;
  const trainable = model.variables.reduce((sum, v) => sum + v.size, 0);
  results.methods[method] = {
    imagesPerSecond,
    stepSeconds: batch / imagesPerSecond.median,
    flopsPerStep: flops.total,
    flopsForward: flops.forward,
    flopsBackward: flops.backward,
    achievedGflops: gflops,
    trainableParameters: trainable,
    recompute: args.recompute,
  };
  log(
    `${backend} ${method}: ${imagesPerSecond.median.toFixed(2)} img/s (min ${imagesPerSecond.min.toFixed(2)}, max ${imagesPerSecond.max.toFixed(2)}), ${gflops.toFixed(1)} GFLOP/s`,
  );
  optimizer.dispose();
  model.dispose();
}

// The GEMM reference again, after the steps: a run whose machine slowed down or sped up shows as disagreement.
results.gemm = gemmReference(gemmBefore, gemmSamples());
for (const figures of Object.values(results.methods)) {
  figures.fractionOfGemm = results.gemm.disagree ? null : figures.achievedGflops / results.gemm.gflops.median;
  figures.fractionOfBestGemm = results.gemm.disagree ? null : figures.achievedGflops / results.gemm.best;
}
log(
  `${backend}: GEMM ${gemmSize}³ median ${results.gemm.gflops.median.toFixed(1)}, best ${results.gemm.best.toFixed(1)} GFLOP/s over ${results.gemm.gflops.samples.length} samples before and after the steps (spread ${(100 * results.gemm.spread).toFixed(1)} %${results.gemm.disagree ? ", DISAGREE: no ratio to GEMM" : ""})`,
);

// Memory: tf.memory() before/after N steps of one method (the optimizer state exists before "before").
{
  const method = args["memory-method"];
  const memoryBatch = Number(args["memory-batch"] ?? batch);
  const data = memoryBatch === batch ? { pixels, labels } : inputs(memoryBatch);
  const model = build(method);
  const optimizer = kora.adamW({ learningRate: 1e-3 });
  const step = makeStep(model, optimizer, data);
  step();
  const before = tf.memory();
  for (let i = 0; i < memorySteps; i++) step();
  const after = tf.memory();
  results.memory = {
    method,
    batch: memoryBatch,
    steps: memorySteps,
    before: { numTensors: before.numTensors, numBytes: before.numBytes },
    after: { numTensors: after.numTensors, numBytes: after.numBytes },
    grew: after.numTensors !== before.numTensors || after.numBytes !== before.numBytes,
  };
  log(
    `${backend} memory over ${memorySteps} ${method} steps: ${before.numTensors} → ${after.numTensors} tensors, ${before.numBytes} → ${after.numBytes} bytes${results.memory.grew ? "  GREW" : ""}`,
  );
  optimizer.dispose();
  model.dispose();
  if (data.pixels !== pixels) tf.dispose([data.pixels, data.labels]);
}

if (!args["no-inference"]) {
  const model = build("kora");
  const infer = () => {
    const logits = tf.tidy(() => model.vit.forward(pixels, { format: "NHWC" }).logits);
    logits.dataSync();
    logits.dispose();
  };
  infer();
  results.inference = { method: "kora", imagesPerSecond: rate(infer, stepsPerRepeat, batch) };
  const extract = () => {
    const states = model.vit.features(pixels, { format: "NHWC", pool: "cls" });
    for (const s of states) s.dataSync();
    tf.dispose(states);
  };
  extract();
  results.features = {
    method: "kora",
    pool: "cls",
    taps: config.depth ?? 12,
    imagesPerSecond: rate(extract, stepsPerRepeat, batch),
  };
  const forward = stepFlops(vitPackage.resolveViTConfig(config), "kora", batch, SPECS.kora).forward;
  results.inference.achievedGflops = (results.inference.imagesPerSecond.median * forward) / batch / 1e9;
  log(
    `${backend} inference: ${results.inference.imagesPerSecond.median.toFixed(1)} img/s (${results.inference.achievedGflops.toFixed(1)} GFLOP/s); features (${results.features.taps + 1} CLS taps): ${results.features.imagesPerSecond.median.toFixed(1)} img/s`,
  );
  model.dispose();
}

tf.dispose([pixels, labels]);
results.peakRssBytes = process.resourceUsage().maxRSS * 1024;
results.seconds = (performance.now() - started) / 1000;
results.flopsFormula = stepFlops(vitPackage.resolveViTConfig(config), "lora", batch, SPECS.lora).formula;
process.stdout.write(`${JSON.stringify(results)}\n`);

/**
 * Activation recomputation's cost and memory at one batch, LoRA (`--profile-modes` picks recomputed, plain or
 * both): first the recomputed steps (peak RSS read after them, while it is still theirs), then the plain ones (peak
 * RSS then is the plain step's, the larger), then, when both ran, interleaved repeats of both for the throughput
 * ratio. A plain step that does not fit the heap is recorded with its error and the heap's peak.
 */
async function recomputeProfile(size) {
  const method = "lora";
  const data = inputs(size);
  const profile = { method, batch: size, backend, threads: kora.selectedWasmThreads(), config };
  const modes = {};
  const rssNow = () => process.resourceUsage().maxRSS * 1024;
  const heap = () => kora.wasmHeapStats();
  const wanted = args["profile-modes"].split(",");
  for (const [name, mode] of [
    ["recomputed", true],
    ["plain", false],
  ].filter(([name]) => wanted.includes(name))) {
    const model = build(method, mode);
    const optimizer = kora.adamW({ learningRate: 1e-3 });
    const step = makeStep(model, optimizer, data);
    const entry = { recompute: mode };
    kora.resetWasmHeapPeak();
    try {
      step(); // warm-up; the optimizer's moments exist from here on
      kora.resetWasmHeapPeak();
      const live = heap()?.liveBytes ?? null;
      const samples = [];
      for (let r = 0; r < Math.max(2, Math.min(repeats, 3)); r++) {
        const t0 = performance.now();
        step();
        samples.push(size / ((performance.now() - t0) / 1000));
      }
      entry.imagesPerSecond = stats(samples);
      entry.heapLiveBeforeBytes = live;
      entry.peakHeapBytes = heap()?.peakBytes ?? null;
      entry.peakRssBytes = rssNow();
      modes[name] = { entry, model, optimizer, step };
    } catch (error) {
      entry.error = `${error?.code ?? "Error"}: ${String(error?.message ?? error).split("\n")[0]}`;
      entry.peakHeapBytes = heap()?.peakBytes ?? null;
      entry.peakRssBytes = rssNow();
      modes[name] = { entry };
      model.dispose();
      optimizer.dispose();
    }
    log(
      `${backend} recompute profile, batch ${size}, ${name}: ${
        entry.error ??
        `${entry.imagesPerSecond.median.toFixed(2)} img/s, peak heap ${(entry.peakHeapBytes / 2 ** 20).toFixed(0)} MiB`
      }, peak RSS ${(entry.peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
    );
  }
  // Interleaved repeats (recomputed, plain, recomputed, …) for the ratio, when both fit.
  if (modes.recomputed?.step && modes.plain?.step) {
    const timed = { recomputed: [], plain: [] };
    for (let r = 0; r < Math.max(2, Math.min(repeats, 3)); r++) {
      for (const name of ["recomputed", "plain"]) {
        const t0 = performance.now();
        modes[name].step();
        timed[name].push(size / ((performance.now() - t0) / 1000));
      }
    }
    const interleaved = { recomputed: stats(timed.recomputed), plain: stats(timed.plain) };
    profile.interleaved = interleaved;
    // Step time recomputed ÷ plain (1.33 would be exactly one more forward pass of every block).
    profile.stepTimeRatio = interleaved.plain.median / interleaved.recomputed.median;
    log(
      `${backend} recompute profile, batch ${size}: step time recomputed/plain ${profile.stepTimeRatio.toFixed(3)}`,
    );
  }
  for (const name of Object.keys(modes)) {
    modes[name].optimizer?.dispose();
    modes[name].model?.dispose();
    profile[name] = modes[name].entry;
  }
  tf.dispose([data.pixels, data.labels, pixels, labels]);
  process.stdout.write(`${JSON.stringify(profile)}\n`);
}

/**
 * The paper preset's training step: ViT-B/16 at 224 (197 tokens, D = 768, 100 classes), LoRA and KoRA as above,
 * every block recomputed, at the largest batch the wasm heap holds. The batch comes from measured peaks: the heap
 * a LoRA step adds at batch 2 and 4 gives bytes per image and a fixed part; the batch is the largest whose
 * predicted peak stays within 60 % of the room left, lowered by a quarter if a step still fails. The margin is the
 * allocator's: ViT-B/16's large tensors fragment the heap, and at 90 % the threaded build ran out of real heap
 * before the guard's count did and hung (a spinning thread, 4.3 GB RSS) instead of failing.
 */
function paperStep() {
  const shape = args.quick
    ? { preset: "vit-micro", numClasses: 100 }
    : { preset: "vit-base", numClasses: 100 };
  const side = vitPackage.resolveViTConfig(shape).imageSize;
  const models = { lora: build("lora", true, shape), kora: build("kora", true, shape) };
  const added = (size) => {
    const data = inputs(size, side);
    const step = makeStep(models.lora, kora.adamW({ learningRate: 1e-3 }), data);
    step();
    kora.resetWasmHeapPeak();
    const live = kora.wasmHeapStats().liveBytes;
    step();
    const peak = kora.wasmHeapStats().peakBytes - live;
    tf.dispose([data.pixels, data.labels]);
    return peak;
  };
  let size;
  let perImage = null;
  if (args.quick) size = 2;
  else {
    const [two, four] = [added(2), added(4)];
    perImage = (four - two) / 2;
    const fixed = two - 2 * perImage;
    const stats0 = kora.wasmHeapStats();
    const room = stats0.limitBytes - stats0.liveBytes;
    size = Math.max(1, Math.floor((0.6 * room - fixed) / perImage));
    log(
      `${backend} ViT-B/16: a recomputed LoRA step adds ${(perImage / 2 ** 20).toFixed(0)} MiB per image + ${(fixed / 2 ** 20).toFixed(0)} MiB; room ${(room / 2 ** 20).toFixed(0)} MiB → batch ${size}`,
    );
  }
  const result = {
    config: shape,
    backend,
    threads: kora.selectedWasmThreads(),
    recompute: true,
    methods: {},
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    const data = inputs(size, side);
    try {
      const runs = Object.entries(models).map(([method, model]) => {
        const step = makeStep(model, kora.adamW({ learningRate: 1e-3 }), data);
        step();
        return { method, step, samples: [] };
      });
      kora.resetWasmHeapPeak();
      for (let r = 0; r < (args.quick ? 1 : 2); r++) {
        for (const run of runs) {
          const t0 = performance.now();
          run.step();
          run.samples.push(size / ((performance.now() - t0) / 1000));
        }
      }
      for (const run of runs) {
        const imagesPerSecond = stats(run.samples);
        const flops = stepFlops(vitPackage.resolveViTConfig(shape), run.method, size, SPECS[run.method]);
        result.methods[run.method] = {
          imagesPerSecond,
          stepSeconds: size / imagesPerSecond.median,
          flopsPerStep: flops.total,
          achievedGflops: (imagesPerSecond.median * flops.total) / size / 1e9,
        };
        log(`${backend} ViT-B/16 ${run.method}, batch ${size}: ${imagesPerSecond.median.toFixed(3)} img/s`);
      }
      tf.dispose([data.pixels, data.labels]);
      break;
    } catch (error) {
      tf.dispose([data.pixels, data.labels]);
      if (error?.code !== "OUT_OF_MEMORY" || attempt === 2) throw error;
      log(`${backend} ViT-B/16 at batch ${size}: ${error.code}; retrying at ${Math.floor(size * 0.75)}`);
      size = Math.max(1, Math.floor(size * 0.75));
    }
  }
  result.batch = size;
  result.heapPerImageBytes = perImage;
  result.peakHeapBytes = kora.wasmHeapStats()?.peakBytes ?? null;
  result.peakRssBytes = process.resourceUsage().maxRSS * 1024;
  for (const model of Object.values(models)) model.dispose();
  tf.dispose([pixels, labels]);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
