// Throughput of every reader and of the synthetic generator. Run: pnpm --filter @kora/datasets bench
// (after `pnpm build`). Readers other than Fashion-MNIST run on full-size files this script writes to a temp
// folder in the official formats (the real datasets are not on CI machines).
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { encode as encodePng } from "fast-png";
import h5wasm from "h5wasm/node";
import jpeg from "jpeg-js";

// The browser-safe entry and the Node readers, as one namespace for the cases below.
const datasets = await Promise.all([import("../dist/index.js"), import("../dist/node.js")])
  .then(([core, node]) => ({ ...core, ...node }))
  .catch((error) => {
    console.error(
      `bench: cannot load ../dist/index.js + node.js (run \`pnpm --filter @kora/datasets build\` first): ${error.message}`,
    );
    process.exit(1);
  });

const results = [];
const tmp = mkdtempSync(join(tmpdir(), "kora-bench-"));

// Each result has two rates: per wall-clock second and per second of this process's CPU time (user + system). On a
// shared, busy machine the CPU-time rate is the fair "one core" number; on an idle one they agree.
function cpuSeconds() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

function time(label, unit, count, fn) {
  fn(Math.min(count, 3)); // warm-up
  const start = performance.now();
  const cpu = cpuSeconds();
  fn(count);
  record(label, unit, count, (performance.now() - start) / 1000, cpuSeconds() - cpu);
}

async function timeAsync(label, unit, count, fn) {
  const start = performance.now();
  const cpu = cpuSeconds();
  await fn();
  record(label, unit, count, (performance.now() - start) / 1000, cpuSeconds() - cpu);
}

function record(label, unit, count, wall, cpu) {
  results.push({ label, unit, wall: count / wall, cpu: count / cpu });
}

function noise(n, seed) {
  const out = new Uint8Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s & 0xff;
  }
  return out;
}

// Synthetic generator (one core, 32×32).
for (const name of ["synthetic-pretrain", "synthetic-source", "synthetic-target"]) {
  const ds = datasets.openSyntheticDataset(name, { trainSize: 20_000 });
  time(`${name} get (32×32 RGB)`, "images/s", 20_000, (n) => {
    for (let i = 0; i < n; i++) ds.get(i);
  });
}
const depthSuite = datasets.openSyntheticDepthDataset();
time("synthetic-depth get (48×64 RGB + depth)", "scenes/s", 1_000, (n) => {
  for (let i = 0; i < n; i++) depthSuite.get(i);
});

// Fashion-MNIST (real files when installed).
if (existsSync(join(datasets.FASHION_MNIST_DEFAULT_ROOT, "train-images-idx3-ubyte.gz"))) {
  await timeAsync("fashion-mnist open train (gunzip + parse 60 000)", "images/s", 60_000, () =>
    datasets.openDataset("fashion-mnist", { split: "train" }),
  );
  const fm = await datasets.openDataset("fashion-mnist", { split: "train" });
  time("fashion-mnist get", "images/s", 60_000, (n) => {
    for (let i = 0; i < n; i++) fm.get(i);
  });
}

// CIFAR-10 / CIFAR-100: full-size test files (10 000 records).
{
  const c10 = join(tmp, "cifar-10-batches-bin");
  mkdirSync(c10);
  const records = noise(10_000 * 3073, 1);
  for (let r = 0; r < 10_000; r++) records[r * 3073] = r % 10;
  writeFileSync(join(c10, "test_batch.bin"), records);
  await timeAsync("cifar10 open test (10 000 records)", "images/s", 10_000, () =>
    datasets.openDataset("cifar10", { root: tmp, split: "test" }),
  );
  const ds = await datasets.openDataset("cifar10", { root: tmp, split: "test" });
  time("cifar10 get (planes → HWC)", "images/s", 10_000, (n) => {
    for (let i = 0; i < n; i++) ds.get(i);
  });
  const c100 = join(tmp, "cifar-100-binary");
  mkdirSync(c100);
  const records100 = noise(10_000 * 3074, 2);
  for (let r = 0; r < 10_000; r++) {
    records100[r * 3074] = r % 20;
    records100[r * 3074 + 1] = r % 100;
  }
  writeFileSync(join(c100, "test.bin"), records100);
  writeFileSync(
    join(c100, "fine_label_names.txt"),
    Array.from({ length: 100 }, (_, i) => `f${i}`).join("\n"),
  );
  const ds100 = await datasets.openDataset("cifar100", { root: c100, split: "test" });
  time("cifar100 get", "images/s", 10_000, (n) => {
    for (let i = 0; i < n; i++) ds100.get(i);
  });
}

// Tiny-ImageNet: 200 classes × 2 JPEGs of 64×64 (real photos compress less; noise is a worst case for decoding).
{
  const root = join(tmp, "tiny-imagenet-200");
  const wnids = Array.from({ length: 200 }, (_, i) => `n${String(i).padStart(8, "0")}`);
  mkdirSync(root);
  writeFileSync(join(root, "wnids.txt"), wnids.join("\n"));
  const rgba = noise(64 * 64 * 4, 3);
  const smooth = new Uint8Array(64 * 64 * 4);
  for (let p = 0; p < 64 * 64; p++)
    smooth.set([(p % 64) * 4, Math.floor(p / 64) * 4, (rgba[p] >> 2) + 100, 255], p * 4);
  const file = jpeg.encode({ width: 64, height: 64, data: smooth }, 90).data;
  for (const wnid of wnids) {
    mkdirSync(join(root, "train", wnid, "images"), { recursive: true });
    for (let k = 0; k < 2; k++) writeFileSync(join(root, "train", wnid, "images", `${wnid}_${k}.JPEG`), file);
  }
  const ds = await datasets.openDataset("tiny-imagenet", { root, verifyCounts: false });
  time("tiny-imagenet get (read + JPEG decode 64×64)", "images/s", ds.size, (n) => {
    for (let i = 0; i < n; i++) ds.get(i);
  });
}

// NYU Depth V2 labelled: 12 frames of 480×640 in MATLAB layout (written with h5wasm; chunked + gzip like MATLAB).
{
  await h5wasm.ready;
  const path = join(tmp, "nyu_depth_v2_labeled.mat");
  const f = new h5wasm.File(path, "w");
  const frames = 12;
  f.create_dataset({
    name: "images",
    data: noise(frames * 3 * 640 * 480, 4),
    shape: [frames, 3, 640, 480],
    dtype: "<B",
    chunks: [1, 3, 640, 480],
    compression: "gzip",
    compression_opts: 1,
  });
  const depths = new Float32Array(frames * 640 * 480).map((_, i) => 1 + (i % 1000) / 200);
  f.create_dataset({
    name: "depths",
    data: depths,
    shape: [frames, 640, 480],
    dtype: "<f",
    chunks: [1, 640, 480],
    compression: "gzip",
    compression_opts: 1,
  });
  f.close();
  const ds = await datasets.openNyuDepthV2({ root: path, split: "all", verifyCounts: false });
  time("nyu-depth-v2 labelled get (HDF5 slice + transpose 480×640)", "frames/s", frames, (n) => {
    for (let i = 0; i < n; i++) ds.get(i);
  });
  ds.close();
}

// DenseDepth layout, unzipped: 10 pairs of 480×640 JPEG + 8-bit PNG.
{
  const root = join(tmp, "densedepth");
  mkdirSync(join(root, "data", "nyu2_train", "scene"), { recursive: true });
  const rgba = new Uint8Array(480 * 640 * 4);
  for (let p = 0; p < 480 * 640; p++) rgba.set([p % 256, (p >> 8) % 256, 128, 255], p * 4);
  const jpg = jpeg.encode({ width: 640, height: 480, data: rgba }, 90).data;
  const png = encodePng({
    width: 640,
    height: 480,
    data: noise(480 * 640, 5).map((v) => v >> 2),
    channels: 1,
    depth: 8,
  });
  const rows = [];
  for (let k = 0; k < 10; k++) {
    writeFileSync(join(root, "data", "nyu2_train", "scene", `${k}.jpg`), jpg);
    writeFileSync(join(root, "data", "nyu2_train", "scene", `${k}.png`), png);
    rows.push(`data/nyu2_train/scene/${k}.jpg,data/nyu2_train/scene/${k}.png`);
  }
  writeFileSync(join(root, "data", "nyu2_train.csv"), rows.join("\n"));
  const ds = await datasets.openDenseDepthNyu({ root, verifyCounts: false });
  time("nyu-depth-v2 DenseDepth get (JPEG + PNG 480×640)", "pairs/s", 10, (n) => {
    for (let i = 0; i < n; i++) ds.get(i);
  });
}

// Pipeline: batches of 64 with crop + flip + bilinear resize to 224 + normalisation.
{
  const ds = datasets.openSyntheticDataset("synthetic-source", { trainSize: 1024 });
  const options = {
    batchSize: 64,
    shuffle: true,
    augment: { padding: 4, flip: true },
    size: [224, 224],
    normalize: "vit",
  };
  await timeAsync(
    "iterateBatches 32→224 crop+flip+normalise (synthetic-source)",
    "images/s",
    1024,
    async () => {
      for await (const _batch of datasets.iterateBatches(ds, options)) {
        // consume
      }
    },
  );
  await timeAsync("iterateBatches 32×32 crop+flip (synthetic-source)", "images/s", 1024, async () => {
    for await (const _batch of datasets.iterateBatches(ds, { ...options, size: undefined })) {
      // consume
    }
  });
}

rmSync(tmp, { recursive: true, force: true });
console.log(
  `machine: ${cpus()[0]?.model ?? "unknown CPU"} (${cpus().length} cores), Node ${process.version}, single thread`,
);
const format = (value) => Math.round(value).toLocaleString("en-US");
console.log("| benchmark | per wall-clock second | per CPU second |\n|---|---|---|");
for (const r of results)
  console.log(`| ${r.label} | ${format(r.wall)} ${r.unit} | ${format(r.cpu)} ${r.unit} |`);
