// KoRA-TS benchmark suite (issue 10). Not a test: it prints figures and never fails on a threshold.
//
//   node bench/bench.mjs [--json] [--quick] [--compare-torch] [--backends wasm,wasm1,cpu] [--threads auto|N]
//
// Backends: `wasm` runs tfjs-backend-wasm with `--threads` XNNPACK threads (default auto: one per core, through
// @kora/tfjs's `selectBackend({ threads })`), `wasm1` the same backend single-threaded (what tfjs does in Node by
// itself), `cpu` the plain JavaScript backend.
//
// Needs the packages built (`pnpm build`). Each backend runs in its own process (bench/vit-step.mjs), so its wasm
// heap and peak RSS are its own; the CKA and dataset-reader figures come from those packages' bench scripts, and
// `--compare-torch` runs bench/torch-vit-peft-bench.py (PyTorch) in the same run. `--json` ends the output with
// one JSON object holding every figure. `--quick` (CI) runs a 2-block toy of everything in well under a minute.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { relaxedSimdArgs } from "../packages/metrics/bench/relaxed-simd.mjs";
import { ckaFigures, ckaSummary } from "./lib/cka.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values: args } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    quick: { type: "boolean", default: false },
    "compare-torch": { type: "boolean", default: false },
    backends: { type: "string", default: "wasm,wasm1,cpu" },
    threads: { type: "string", default: "auto" },
  },
});
const quick = args.quick;
const say = (line) => console.log(line);

for (const dist of [
  "packages/tfjs/dist/index.js",
  "packages/vit/dist/index.js",
  "packages/metrics/dist/index.js",
]) {
  if (!existsSync(join(root, dist))) {
    console.error(`bench: ${dist} is missing; run \`pnpm build\` first`);
    process.exit(1);
  }
}

/** Per-backend settings. The cpu backend is ~30× slower than wasm: fewer methods, a smaller batch, one step. */
const PLANS = {
  wasm: quick
    ? ["--batch", "4", "--repeats", "2", "--steps", "1", "--warmup", "1", "--memory-steps", "3", "--quick"]
    : [
        "--batch",
        "64",
        "--repeats",
        "3",
        "--steps",
        "1",
        "--warmup",
        "1",
        "--memory-steps",
        "100",
        "--memory-batch",
        "8",
      ],
  cpu: quick
    ? [
        "--batch",
        "2",
        "--repeats",
        "1",
        "--steps",
        "1",
        "--warmup",
        "0",
        "--memory-steps",
        "2",
        "--quick",
        "--methods",
        "lora,kora",
        "--no-inference",
      ]
    : [
        "--batch",
        "8",
        "--repeats",
        "2",
        "--steps",
        "1",
        "--warmup",
        "0",
        "--memory-steps",
        "3",
        "--methods",
        "lora,kora",
        "--no-inference",
      ],
};
// Batch 64 fits the wasm heap (32-bit, at most 4 GiB) through activation recomputation, which the ViT chooses by
// itself ("auto") when the heap guard's room cannot hold the step; should a step still fail (OUT_OF_MEMORY), the
// suite retries at batch 32, then 16.
const FALLBACK_BATCHES = [32, 16];

/** `wasm1` is the wasm backend with one thread; `wasm` gets `--threads`. */
const BACKEND_ARGS = {
  wasm: ["--backend", "wasm", "--threads", args.threads],
  wasm1: ["--backend", "wasm", "--threads", "1"],
  cpu: ["--backend", "cpu"],
};

function runStep(backend, extra = [], minutes = 30) {
  const plan = PLANS[backend === "wasm1" ? "wasm" : backend];
  const argv = [join(root, "bench/vit-step.mjs"), ...BACKEND_ARGS[backend], ...plan, ...extra];
  // A wedged child must not wedge the suite: SIGKILL after 30 minutes (a full wasm run takes ~6).
  const child = spawnSync(process.execPath, argv, {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 64 << 20,
    timeout: minutes * 60_000,
    killSignal: "SIGKILL",
  });
  process.stderr.write(child.stderr ?? "");
  if (child.signal === "SIGKILL") return { error: `killed after ${minutes} min without finishing (hung)` };
  const last = (child.stdout ?? "").trim().split("\n").at(-1) ?? "";
  if (child.status !== 0 || !last.startsWith("{")) {
    const why =
      (child.stderr ?? "").split("\n").find((l) => /Error|Aborted/.test(l)) ?? `exit ${child.status}`;
    return { error: why.trim() };
  }
  return JSON.parse(last);
}

function runNode(script, label, nodeArgs = []) {
  const t0 = performance.now();
  const child = spawnSync(process.execPath, [...nodeArgs, join(root, script)], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  const output = `${child.stdout ?? ""}${child.stderr ?? ""}`;
  if (child.status !== 0) say(`${label}: failed (exit ${child.status})\n${output}`);
  return { status: child.status, output, seconds: (performance.now() - t0) / 1000 };
}

function torch(method, batch, steps, depth, shape = [], warmup = 2) {
  const python = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
  const script = join(root, "bench", "torch-vit-peft-bench.py");
  const child = spawnSync(
    python,
    [
      script,
      "--method",
      method,
      "--batch",
      String(batch),
      "--steps",
      String(steps),
      "--threads",
      "2",
      "--depth",
      String(depth),
      "--warmup",
      String(warmup),
      ...shape,
    ],
    { encoding: "utf8" },
  );
  const line = (child.stdout ?? "").trim().split("\n").at(-1) ?? "";
  const rate = /img_per_s=([\d.]+)/.exec(line);
  if (child.status !== 0 || rate === null) return { error: (child.stderr || line).trim().split("\n").at(-1) };
  return { imagesPerSecond: Number(rate[1]), line };
}

const started = new Date();
const result = {
  date: started.toISOString(),
  node: process.version,
  machine: { cpus: cpus().length, model: cpus()[0]?.model ?? "unknown", memoryBytes: totalmem() },
  loadAverageStart: loadavg(),
  command: `node bench/bench.mjs ${process.argv.slice(2).join(" ")}`.trim(),
  quick,
  backends: {},
};
say(
  `KoRA-TS bench — ${result.machine.cpus} × ${result.machine.model}, node ${process.version}, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}${quick ? " (quick)" : ""}`,
);

for (const backend of args.backends.split(",").filter(Boolean)) {
  let figures = runStep(backend);
  if (figures.error && backend.startsWith("wasm") && !quick) {
    result.wasmBatchLimit ??= {};
    result.wasmBatchLimit[backend] = { tried: 64, error: figures.error };
    for (const batch of FALLBACK_BATCHES) {
      say(`wasm at the previous batch failed (${figures.error}); retrying at batch ${batch}`);
      figures = runStep(backend, ["--batch", String(batch)]);
      if (!figures.error) break;
    }
  }
  result.backends[backend] = figures;
  // Activation recomputation: batch 32 and 64, LoRA, with and without, each batch in a process of its own (so the
  // peak RSS is that batch's); wasm only (the heap guard's figures).
  if (backend.startsWith("wasm") && !figures.error) {
    result.recomputation ??= {};
    result.recomputation[backend] = {};
    for (const size of quick ? [4] : [32]) {
      result.recomputation[backend][size] = runStep(backend, ["--recompute-profile", String(size)]);
    }
    // Batch 64: the plain step does not fit, and the threaded build can hang instead of failing when allocator
    // fragmentation exhausts the heap before the guard's count does, so it runs alone, last, with a short limit.
    if (!quick) {
      const profile = runStep(backend, ["--recompute-profile", "64", "--profile-modes", "recomputed"]);
      const plain = runStep(backend, ["--recompute-profile", "64", "--profile-modes", "plain"], 6);
      result.recomputation[backend][64] = profile.error
        ? profile
        : { ...profile, plain: plain.plain ?? { error: plain.error } };
    }
  }
}

// The paper preset's step: ViT-B/16 at 224, LoRA and KoRA, recomputed, at the largest batch the heap holds
// (threaded wasm, the default configuration), beside PyTorch at the same shape and batch with --compare-torch.
if (result.backends.wasm && !result.backends.wasm.error) {
  result.paperStep = runStep("wasm", ["--paper-step"]);
}

// CKA and dataset readers: their own bench scripts (the real figures need their full sizes; skipped by --quick).
if (!quick) {
  // On Node 20 with --experimental-wasm-relaxed-simd, so that the fused multiply-add kernel is measured.
  const cka = runNode("packages/metrics/bench/cka-bench.mjs", "CKA bench", relaxedSimdArgs());
  result.cka = ckaFigures(cka.output);
  const readers = runNode("packages/datasets/bench/bench.mjs", "datasets bench");
  result.datasets = { lines: readers.output.trim().split("\n"), seconds: readers.seconds };
} else {
  result.cka = { skipped: "quick" };
  result.datasets = { skipped: "quick" };
}

const wasm = result.backends.wasm ?? result.backends.wasm1;
if (args["compare-torch"] && wasm && !wasm.error) {
  const steps = quick ? 1 : 5;
  result.torch = {
    batch: wasm.batch,
    lora: torch("lora", wasm.batch, steps, wasm.config.depth ?? 12),
    kora: torch("kora", wasm.batch, steps, wasm.config.depth ?? 12),
  };
}
if (args["compare-torch"] && result.paperStep && !result.paperStep.error) {
  const b16 = quick
    ? ["--dim", "48", "--heads", "3", "--img", "32", "--patch", "8"]
    : ["--dim", "768", "--heads", "12", "--img", "224", "--patch", "16"];
  const depth = quick ? 3 : 12;
  result.paperStep.torch = {
    lora: torch("lora", result.paperStep.batch, quick ? 1 : 2, depth, b16, 1),
    kora: torch("kora", result.paperStep.batch, quick ? 1 : 2, depth, b16, 1),
  };
}
result.loadAverageEnd = loadavg();
result.peakRssBytes = Object.fromEntries(
  Object.entries(result.backends).map(([name, figures]) => [name, figures.peakRssBytes ?? null]),
);
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : null);
const ratiosOf = (figures) => {
  const lora = figures?.methods?.lora;
  const koraFigures = figures?.methods?.kora;
  return {
    // Step-time ratio (time KoRA / time LoRA = LoRA img/s ÷ KoRA img/s): ≤ 1.10 is the target.
    koraOverLora: ratio(lora?.imagesPerSecond.median, koraFigures?.imagesPerSecond.median),
    // Achieved GFLOP/s of the LoRA step ÷ the backend's own 1024³ GEMM rate (median and best of the samples taken
    // before and after the steps), same run; null when those samples disagree by more than 10 %.
    stepOverGemm: lora?.fractionOfGemm ?? null,
    stepOverGemmBest: lora?.fractionOfBestGemm ?? null,
    gemmDisagree: figures?.gemm?.disagree ?? null,
    gemmSpread: figures?.gemm?.spread ?? null,
    // Throughput ours ÷ PyTorch's (≥ 1 means we are faster), same run, same batch.
    loraOverTorch: ratio(lora?.imagesPerSecond.median, result.torch?.lora?.imagesPerSecond),
    koraOverTorch: ratio(koraFigures?.imagesPerSecond.median, result.torch?.kora?.imagesPerSecond),
  };
};
// The headline ratios are the default configuration's (`wasm`, threaded); the single-threaded backend's follow.
result.ratios = {
  ...ratiosOf(wasm),
  threads: wasm?.threads ?? null,
  singleThread: result.backends.wasm1 ? ratiosOf(result.backends.wasm1) : null,
  // Activation recomputation's step time ÷ the plain step's, LoRA at batch 32, interleaved in one process.
  recomputeStepTime: result.recomputation?.wasm?.[32]?.stepTimeRatio ?? null,
  recomputeStepTimeSingleThread: result.recomputation?.wasm1?.[32]?.stepTimeRatio ?? null,
  // ViT-B/16 at 224 (the paper preset's step), recomputed, ours ÷ PyTorch at the same batch.
  paperLoraOverTorch: ratio(
    result.paperStep?.methods?.lora?.imagesPerSecond.median,
    result.paperStep?.torch?.lora?.imagesPerSecond,
  ),
  paperKoraOverTorch: ratio(
    result.paperStep?.methods?.kora?.imagesPerSecond.median,
    result.paperStep?.torch?.kora?.imagesPerSecond,
  ),
  // LoRA step throughput, threaded ÷ single-threaded, same run.
  threadSpeedup: ratio(
    result.backends.wasm?.methods?.lora?.imagesPerSecond.median,
    result.backends.wasm1?.methods?.lora?.imagesPerSecond.median,
  ),
};

// The readable table.
const f = (x, digits = 2) => (x === null || x === undefined ? "—" : Number(x).toFixed(digits));
say("");
for (const [backend, figures] of Object.entries(result.backends)) {
  if (figures.error) {
    say(`${backend}: FAILED — ${figures.error}`);
    continue;
  }
  const gemm = figures.gemm;
  say(
    `${backend}${figures.threads ? ` (${figures.threads} thread${figures.threads === 1 ? "" : "s"})` : ""}: batch ${figures.batch}, recompute ${figures.methods?.lora?.recompute ?? "auto"}, GEMM 1024³ median ${f(gemm.gflops.median, 1)} GFLOP/s, best ${f(gemm.best, 1)} (${gemm.gflops.samples.length} samples before and after the steps, spread ${f(100 * gemm.spread, 1)} %${gemm.disagree ? " > 10 %: DISAGREE, no ratio to GEMM" : ""}), peak RSS ${f(figures.peakRssBytes / 2 ** 20, 0)} MiB`,
  );
  say(
    "  method           img/s median [min, max]     GFLOP/step  GFLOP/s  of GEMM (median / best)  trainable",
  );
  for (const [method, m] of Object.entries(figures.methods)) {
    say(
      `  ${method.padEnd(16)} ${f(m.imagesPerSecond.median).padStart(7)} [${f(m.imagesPerSecond.min)}, ${f(m.imagesPerSecond.max)}]`.padEnd(
        47,
      ) +
        `${f(m.flopsPerStep / 1e9, 1).padStart(9)}  ${f(m.achievedGflops, 1).padStart(7)}  ${
          m.fractionOfGemm === null
            ? "   (GEMM samples disagree)"
            : `${f(100 * m.fractionOfGemm, 0).padStart(6)} % / ${f(100 * m.fractionOfBestGemm, 0).padStart(3)} %`.padEnd(
                25,
              )
        }  ${m.trainableParameters}`,
    );
  }
  if (figures.inference) {
    say(
      `  inference (KoRA) ${f(figures.inference.imagesPerSecond.median, 1)} img/s [${f(figures.inference.imagesPerSecond.min, 1)}, ${f(figures.inference.imagesPerSecond.max, 1)}], ${f(figures.inference.achievedGflops, 1)} GFLOP/s; features (${figures.features.taps + 1} CLS taps) ${f(figures.features.imagesPerSecond.median, 1)} img/s`,
    );
  }
  const mem = figures.memory;
  say(
    `  memory over ${mem.steps} ${mem.method} steps (batch ${mem.batch}): ${mem.before.numTensors} → ${mem.after.numTensors} tensors, ${mem.before.numBytes} → ${mem.after.numBytes} bytes${mem.grew ? "  ← GREW" : " (no growth)"}`,
  );
}
const mib = (bytes) => (Number.isFinite(bytes) ? `${f(bytes / 2 ** 20, 0)} MiB` : "—");
for (const [backend, sizes] of Object.entries(result.recomputation ?? {})) {
  say(`activation recomputation, ${backend}, LoRA step:`);
  for (const [size, profile] of Object.entries(sizes)) {
    if (profile.error) {
      say(`  batch ${size}: FAILED — ${profile.error}`);
      continue;
    }
    for (const name of ["plain", "recomputed"]) {
      const entry = profile[name];
      if (entry === undefined) continue;
      say(
        `  batch ${String(size).padEnd(3)} ${name.padEnd(10)} ${
          entry.error
            ? `does not fit (${entry.error.split(":")[0].replace(/^killed.*/, "hung")})`.padEnd(26)
            : `${f(entry.imagesPerSecond.median)} img/s`.padEnd(26)
        } peak heap ${mib(entry.peakHeapBytes).padStart(9)}, peak RSS ${mib(entry.peakRssBytes).padStart(9)}`,
      );
    }
    if (profile.stepTimeRatio !== undefined) {
      say(
        `  batch ${size}: step time recomputed / plain ${f(profile.stepTimeRatio, 3)} (interleaved; one more forward pass of the blocks: ≈ 1.5 for LoRA, whose frozen backbone computes no weight gradients)`,
      );
    }
  }
}
for (const [name, limit] of Object.entries(result.wasmBatchLimit ?? {}))
  say(`${name} batch 64: ${limit.error}`);
if (wasm?.flopsFormula) say(`FLOPs: ${wasm.flopsFormula}`);
for (const line of ckaSummary(result.cka)) say(line);
if (result.datasets.lines) for (const line of result.datasets.lines) say(`datasets: ${line}`);
if (result.torch) {
  say(
    `PyTorch (same run, batch ${result.torch.batch}, 2 threads): LoRA ${f(result.torch.lora.imagesPerSecond)} img/s, KoRA ${f(result.torch.kora.imagesPerSecond)} img/s${result.torch.lora.error ? ` (${result.torch.lora.error})` : ""}`,
  );
}
const gemmRatio = (r) =>
  r.gemmDisagree
    ? `LoRA step / GEMM not given (GEMM samples spread ${f(100 * r.gemmSpread, 1)} % > 10 %)`
    : `LoRA step / GEMM ${f(r.stepOverGemm, 3)} (best sample ${f(r.stepOverGemmBest, 3)})`;
const ratioLine = (r) =>
  `KoRA/LoRA step time ${f(r.koraOverLora, 3)}, ${gemmRatio(r)}, LoRA ours/PyTorch ${f(r.loraOverTorch, 3)}, KoRA ours/PyTorch ${f(r.koraOverTorch, 3)}`;
say(`ratios (wasm, ${result.ratios.threads ?? "?"} threads): ${ratioLine(result.ratios)}`);
if (result.ratios.singleThread) {
  say(
    `ratios (wasm, 1 thread): ${ratioLine(result.ratios.singleThread)}; threaded/single LoRA throughput ${f(result.ratios.threadSpeedup, 2)}`,
  );
}
if (result.paperStep) {
  const p = result.paperStep;
  if (p.error) say(`ViT-B/16 at 224 (paper preset step): FAILED — ${p.error}`);
  else {
    say(
      `${quick ? "paper preset step (quick: a vit-micro toy)" : "ViT-B/16 at 224 (paper preset step)"}, wasm ${p.threads} threads, recomputed, batch ${p.batch} (largest that fits; ${mib(p.heapPerImageBytes)} of heap per image), peak heap ${mib(p.peakHeapBytes)}, peak RSS ${mib(p.peakRssBytes)}:`,
    );
    for (const method of ["lora", "kora"]) {
      const m = p.methods[method];
      const t = p.torch?.[method];
      say(
        `  ${method}: ${f(m.imagesPerSecond.median, 3)} img/s [${f(m.imagesPerSecond.min, 3)}, ${f(m.imagesPerSecond.max, 3)}], ${f(m.stepSeconds, 1)} s/step, ${f(m.achievedGflops, 1)} GFLOP/s${
          t ? `; PyTorch ${t.error ? `failed (${t.error})` : `${f(t.imagesPerSecond, 3)} img/s`}` : ""
        }`,
      );
    }
  }
}
if (result.ratios.recomputeStepTime !== null || result.ratios.recomputeStepTimeSingleThread !== null) {
  say(
    `recomputation step time / plain, LoRA batch 32: ${f(result.ratios.recomputeStepTime, 3)} (wasm), ${f(result.ratios.recomputeStepTimeSingleThread, 3)} (wasm, 1 thread)`,
  );
}
say(`load average at the end: ${result.loadAverageEnd.map((l) => l.toFixed(2)).join(" ")}`);
if (args.json) console.log(JSON.stringify(result));
