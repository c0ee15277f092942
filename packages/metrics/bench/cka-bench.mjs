// Benchmark of @kora/metrics' CKA (not a test). Run: pnpm --filter @kora/metrics bench
// Measures, in one run, the synchronous API, the asynchronous one on worker threads (one per core) and numpy
// (bench/cka-numpy.py, float64 on its BLAS) at the same sizes; numpy runs before and after ours and the best of
// both is the reference. On Node 20 the script restarts itself with --experimental-wasm-relaxed-simd (see
// relaxed-simd.mjs) so that it measures the fused multiply-add kernel, as Node ≥ 22 runs it by default. Set
// KORA_METRICS_NO_FMA=1 to measure the plain WebAssembly SIMD kernel, KORA_METRICS_NO_WASM=1 the JavaScript one,
// KORA_NUMPY_PYTHON to pick the Python, --no-numpy to skip it. The last line, `CKA_JSON {...}`, holds every
// figure, `kernel` among them.
import { spawnSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { relaxedSimdArgs } from "./relaxed-simd.mjs";

const relaxed = relaxedSimdArgs();
if (relaxed.length > 0) {
  const self = fileURLToPath(import.meta.url);
  const child = spawnSync(
    process.execPath,
    [...process.execArgv, ...relaxed, self, ...process.argv.slice(2)],
    {
      stdio: "inherit",
    },
  );
  process.exit(child.status ?? 1);
}
if (process.env.KORA_METRICS_NO_WASM === "1") globalThis.KORA_METRICS_NO_WASM = true;
if (process.env.KORA_METRICS_NO_FMA === "1") globalThis.KORA_METRICS_NO_FMA = true;
const { CKAWorkerPool, ckaKernel, linearCKA, linearCKAAsync, MinibatchCKA } = await import(
  "../dist/index.js"
);
const here = dirname(fileURLToPath(import.meta.url));

/** Deterministic standard-normal Float64Array (mulberry32 + Box–Muller). */
function gaussian(length, seed) {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++)
    out[i] = Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return out;
}

/**
 * Best time of each function over `repeats` rounds, the functions interleaved within a round so that load on
 * the shared machine hits them alike; one warm-up call each first (JIT, WebAssembly memory, worker start).
 */
async function race(fns, repeats) {
  const out = fns.map(() => ({ seconds: Number.POSITIVE_INFINITY, times: [], value: undefined }));
  for (const fn of fns) await fn();
  for (let r = 0; r < repeats; r++) {
    for (const [i, fn] of fns.entries()) {
      const t0 = performance.now();
      out[i].value = await fn();
      const seconds = (performance.now() - t0) / 1000;
      out[i].times.push(seconds);
      out[i].seconds = Math.min(out[i].seconds, seconds);
    }
  }
  return out;
}

const N = 10_000;
const D = 768;
const LAYERS = 12;
const BATCH = 256;
const BATCHES = 4;

function numpy() {
  if (process.argv.includes("--no-numpy")) return { skipped: "--no-numpy" };
  const candidates = [process.env.KORA_NUMPY_PYTHON, "python3", "/usr/bin/python3"].filter(Boolean);
  let last = "no python3";
  for (const python of candidates) {
    const child = spawnSync(
      python,
      [join(here, "cka-numpy.py"), ...[N, D, LAYERS, BATCH, BATCHES].map(String)],
      { encoding: "utf8" },
    );
    const line = (child.stdout ?? "").trim().split("\n").at(-1) ?? "";
    if (child.status === 0 && line.startsWith("{")) return { python, ...JSON.parse(line) };
    last = `${python}: ${(child.stderr || child.error?.message || line).trim().split("\n").at(-1)}`;
  }
  return { error: last };
}

const threads = Math.max(1, Math.min(8, cpus().length));
// wasm-fma: WebAssembly relaxed SIMD, fused multiply-add; wasm-simd: separate multiply and add; javascript.
const kernel = ckaKernel();
const nodeArgs = process.execArgv;
console.log(
  `@kora/metrics CKA bench — node ${process.version}${nodeArgs.length > 0 ? ` ${nodeArgs.join(" ")}` : ""}, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, kernel: ${kernel}, async on ${threads} worker threads, load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
const numpyBefore = numpy();
const pool = new CKAWorkerPool({ threads });
const figures = { threads, n: N, d: D, kernel, node: process.version, nodeArgs, loadBefore: loadavg() };

{
  const x = { rows: N, cols: D, data: gaussian(N * D, 1) };
  const y = { rows: N, cols: D, data: gaussian(N * D, 2) };
  const [sync, async] = await race([() => linearCKA(x, y), () => linearCKAAsync(x, y, { pool })], 3);
  // FLOPs as numpy counts feature_space_linear_cka: XᵀY, XᵀX, YᵀY, each 2·n·d² (multiply + add).
  const flops = 3 * 2 * N * D * D;
  // What this implementation executes: the upper 4×4 blocks of the symmetric [X Y]ᵀ[X Y], ≈ 4·n·d².
  const executed = N * (2 * D) * (2 * D + 4);
  for (const [name, r] of [
    ["linearCKA", sync],
    ["linearCKAAsync", async],
  ]) {
    console.log(
      `${name} n=${N} d=${D}: ${r.seconds.toFixed(3)} s (best of 3${name === "linearCKAAsync" ? `, ${threads} workers` : ""}), ${(flops / r.seconds / 1e9).toFixed(1)} GFLOP/s numpy-equivalent (6·n·d² = ${(flops / 1e9).toFixed(1)} GFLOP), ${(executed / r.seconds / 1e9).toFixed(1)} GFLOP/s executed (≈4·n·d²), CKA = ${r.value.toFixed(12)}`,
    );
  }
  figures.linear = {
    seconds: sync.seconds,
    times: sync.times,
    gflops: flops / sync.seconds,
    value: sync.value,
  };
  figures.linearAsync = {
    seconds: async.seconds,
    times: async.times,
    gflops: flops / async.seconds,
    value: async.value,
    relativeDifference: Math.abs(async.value - sync.value) / Math.abs(sync.value),
  };
}

{
  const data = Array.from({ length: BATCHES }, (_, b) =>
    Array.from({ length: LAYERS }, (_, l) => ({
      rows: BATCH,
      cols: D,
      data: gaussian(BATCH * D, 100 * b + l + 10),
    })),
  );
  const [sync, async] = await race(
    [
      () => {
        const grid = new MinibatchCKA();
        for (const layerBatch of data) grid.update(layerBatch);
        return grid.result();
      },
      async () => {
        const grid = new MinibatchCKA();
        for (const layerBatch of data) await grid.updateAsync(layerBatch, undefined, { pool });
        return grid.result();
      },
    ],
    3,
  );
  // Per batch: L Grams X Xᵀ counted as 2·b²·d each (the full product, as numpy forms it), plus 2·b² per layer
  // pair for the Frobenius products.
  const flops =
    BATCHES * (LAYERS * 2 * BATCH * BATCH * D + ((LAYERS * (LAYERS + 1)) / 2) * 2 * BATCH * BATCH);
  for (const [name, r] of [
    ["MinibatchCKA", sync],
    ["MinibatchCKA.updateAsync", async],
  ]) {
    console.log(
      `${name} ${LAYERS}×${LAYERS} grid, ${BATCHES} batches of ${BATCH}×${D}: ${r.seconds.toFixed(3)} s (best of 3), ${(flops / r.seconds / 1e9).toFixed(1)} GFLOP/s (FLOPs = batches·(L·2·b²·d + L(L+1)/2·2·b²) = ${(flops / 1e9).toFixed(2)} GFLOP), CKA[0][1] = ${r.value[0][1].toFixed(6)}`,
    );
  }
  figures.minibatch = { seconds: sync.seconds, times: sync.times };
  figures.minibatchAsync = { seconds: async.seconds, times: async.times };
}
await pool.close();

const numpyAfter = numpy();
if (numpyBefore.error || numpyAfter.error || numpyBefore.skipped) {
  console.log(`numpy: not measured (${numpyBefore.error ?? numpyAfter.error ?? numpyBefore.skipped})`);
} else {
  const linear = Math.min(numpyBefore.linearSeconds, numpyAfter.linearSeconds);
  const minibatch = Math.min(numpyBefore.minibatchSeconds, numpyAfter.minibatchSeconds);
  figures.numpy = {
    python: numpyBefore.python,
    version: numpyBefore.numpy,
    blas: numpyBefore.blas,
    linearSeconds: linear,
    linearTimes: [...numpyBefore.linearTimes, ...numpyAfter.linearTimes],
    minibatchSeconds: minibatch,
    minibatchTimes: [...numpyBefore.minibatchTimes, ...numpyAfter.minibatchTimes],
  };
  // Time ÷ numpy's time, same run: ≤ 2 is the target for the asynchronous linear CKA.
  figures.overNumpy = {
    linear: figures.linear.seconds / linear,
    linearAsync: figures.linearAsync.seconds / linear,
    minibatch: figures.minibatch.seconds / minibatch,
    minibatchAsync: figures.minibatchAsync.seconds / minibatch,
  };
  const o = figures.overNumpy;
  console.log(
    `numpy ${numpyBefore.numpy} float64 (${numpyBefore.blas}, default threads; best of 3 before and 3 after ours): linear ${linear.toFixed(3)} s, minibatch ${minibatch.toFixed(3)} s`,
  );
  console.log(
    `time ÷ numpy: linearCKA ${o.linear.toFixed(2)}, linearCKAAsync ${o.linearAsync.toFixed(2)}, MinibatchCKA ${o.minibatch.toFixed(2)}, updateAsync ${o.minibatchAsync.toFixed(2)}`,
  );
}
figures.loadAfter = loadavg();
console.log(`CKA_JSON ${JSON.stringify(figures)}`);
