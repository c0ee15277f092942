// Part of `pnpm check:package`: proves the CommonJS build loads the ESM-only dependencies (h5wasm, fast-png)
// through a real dynamic import(), by reading the NYU .mat fixture and a DenseDepth folder with PNGs.
const assert = require("node:assert/strict");
const { mkdtempSync, mkdirSync, writeFileSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");
const datasets = require("../dist/node.cjs");

(async () => {
  const nyu = await datasets.openNyuDepthV2({
    root: join(__dirname, "../src/__fixtures__/nyu-labeled-tiny.mat"),
    split: "all",
    verifyCounts: false,
  });
  assert.equal(nyu.size, 3);
  assert.equal(nyu.get(1).depth[0], 1.5);
  nyu.close();

  const { encode } = await import("fast-png");
  const dir = mkdtempSync(join(tmpdir(), "kora-check-cjs-"));
  mkdirSync(join(dir, "data", "t"), { recursive: true });
  writeFileSync(
    join(dir, "data/t/c.png"),
    encode({ width: 2, height: 1, data: Uint8Array.from([1, 2, 3, 4, 5, 6]), channels: 3, depth: 8 }),
  );
  writeFileSync(
    join(dir, "data/t/d.png"),
    encode({ width: 2, height: 1, data: Uint16Array.from([1000, 2500]), channels: 1, depth: 16 }),
  );
  writeFileSync(join(dir, "data/nyu2_test.csv"), "data/t/c.png,data/t/d.png\n");
  const dense = await datasets.openDenseDepthNyu({ root: dir, split: "test", verifyCounts: false });
  assert.deepEqual(Array.from(dense.get(0).depth), [1, 2.5]);
  assert.deepEqual(Array.from(dense.get(0).image), [1, 2, 3, 4, 5, 6]);
  console.log("check-cjs: the CommonJS build loads h5wasm and fast-png");
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
