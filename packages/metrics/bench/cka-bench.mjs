// Benchmark of @kora/metrics' CKA (not a test). Run: pnpm --filter @kora/metrics bench
// Set KORA_METRICS_NO_WASM=1 to measure the plain JavaScript kernel.
import { cpus } from "node:os";

if (process.env.KORA_METRICS_NO_WASM === "1") globalThis.KORA_METRICS_NO_WASM = true;
const { linearCKA, MinibatchCKA } = await import("../dist/index.js");

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

function time(fn, repeats) {
  fn(); // warm-up (JIT, WebAssembly memory growth)
  let best = Number.POSITIVE_INFINITY;
  let value;
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    value = fn();
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return { seconds: best, value };
}

console.log(
  `@kora/metrics CKA bench — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, kernel: ${globalThis.KORA_METRICS_NO_WASM ? "JavaScript" : "WebAssembly SIMD (JS fallback if unavailable)"}`,
);

{
  const n = 10_000;
  const d = 768;
  const x = { rows: n, cols: d, data: gaussian(n * d, 1) };
  const y = { rows: n, cols: d, data: gaussian(n * d, 2) };
  const { seconds, value } = time(() => linearCKA(x, y), 3);
  // FLOPs as numpy counts feature_space_linear_cka: XᵀY, XᵀX, YᵀY, each 2·n·d² (multiply + add).
  const flops = 3 * 2 * n * d * d;
  // What this implementation executes: XᵀX and YᵀY are symmetric, only the upper 4×4 blocks are formed.
  const executed = 2 * n * d * d + 2 * (n * d * (d + 4));
  console.log(
    `linearCKA n=${n} d=${d}: ${seconds.toFixed(3)} s (best of 3), ${(flops / seconds / 1e9).toFixed(1)} GFLOP/s numpy-equivalent (6·n·d² = ${(flops / 1e9).toFixed(1)} GFLOP), ${(executed / seconds / 1e9).toFixed(1)} GFLOP/s executed (≈4·n·d²), CKA = ${value.toFixed(6)}`,
  );
}

{
  const layers = 12;
  const batch = 256;
  const d = 768;
  const batches = 4;
  const data = Array.from({ length: batches }, (_, b) =>
    Array.from({ length: layers }, (_, l) => ({
      rows: batch,
      cols: d,
      data: gaussian(batch * d, 100 * b + l + 10),
    })),
  );
  const { seconds, value } = time(() => {
    const grid = new MinibatchCKA();
    for (const layerBatch of data) grid.update(layerBatch);
    return grid.result();
  }, 2);
  // Per batch and layer: the Gram X Xᵀ, symmetric, ≈ batch²·d multiply-adds counted as 2·batch²·d/2·… we count
  // 2·b²·d per layer (full product, as numpy would), plus 2·b² per pair for the Frobenius products.
  const flops =
    batches * (layers * 2 * batch * batch * d + ((layers * (layers + 1)) / 2) * 2 * batch * batch);
  console.log(
    `MinibatchCKA ${layers}×${layers} grid, ${batches} batches of ${batch}×${d}: ${seconds.toFixed(3)} s (best of 2), ${(flops / seconds / 1e9).toFixed(1)} GFLOP/s (FLOPs = batches·(L·2·b²·d + L(L+1)/2·2·b²) = ${(flops / 1e9).toFixed(2)} GFLOP), CKA[0][1] = ${value[0][1].toFixed(4)}`,
  );
}
