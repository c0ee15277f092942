// Writes docs/synthetic-grid.png: sample images of every synthetic suite (and the depth suite when built).
// Run after `pnpm build`: node scripts/picture-grid.mjs
import { writeFileSync } from "node:fs";
import { encode } from "fast-png";
import * as datasets from "../dist/index.js";

const TILE = 64; // 32-px images drawn 2× (nearest neighbour)
const GAP = 4;
const COLUMNS = 12;
const rows = [];

for (const name of ["synthetic-pretrain", "synthetic-source", "synthetic-target"]) {
  const ds = datasets.openSyntheticDataset(name, { split: "train" });
  for (let r = 0; r < 2; r++) {
    const row = [];
    for (let c = 0; c < COLUMNS; c++) {
      // Class r*COLUMNS + c, first instance of it.
      const { image } = ds.get(r * COLUMNS + c + (name === "synthetic-pretrain" ? r * 41 : 0));
      row.push({ image, height: 32, width: 32, channels: 3 });
    }
    rows.push(row);
  }
}
if (typeof datasets.openSyntheticDepthDataset === "function") {
  const depth = datasets.openSyntheticDepthDataset({ split: "train" });
  const [h, w] = depth.depthShape;
  const row = [];
  for (let c = 0; c < COLUMNS / 2; c++) {
    const { image, depth: d } = depth.get(c);
    row.push({ image, height: h, width: w, channels: 3 });
    const gray = new Uint8Array(h * w * 3);
    for (let i = 0; i < h * w; i++) {
      // Near = bright, 0.5 m → 255, 10 m → 0.
      const v = Math.round(255 * (1 - (d[i] - 0.5) / 9.5));
      gray[i * 3] = v;
      gray[i * 3 + 1] = Math.round(v * 0.8);
      gray[i * 3 + 2] = 255 - v;
    }
    row.push({ image: gray, height: h, width: w, channels: 3 });
  }
  rows.push(row);
}

const width = COLUMNS * (TILE + GAP) + GAP;
const height = rows.length * (TILE + GAP) + GAP;
const data = new Uint8Array(width * height * 3).fill(255);
rows.forEach((row, r) => {
  row.forEach((tile, c) => {
    const scale = Math.min(TILE / tile.width, TILE / tile.height);
    const x0 = GAP + c * (TILE + GAP);
    const y0 = GAP + r * (TILE + GAP);
    for (let y = 0; y < TILE; y++) {
      for (let x = 0; x < TILE; x++) {
        const sx = Math.floor(x / scale);
        const sy = Math.floor(y / scale);
        if (sx >= tile.width || sy >= tile.height) continue;
        for (let k = 0; k < 3; k++) {
          data[((y0 + y) * width + x0 + x) * 3 + k] = tile.image[(sy * tile.width + sx) * 3 + k];
        }
      }
    }
  });
});
writeFileSync(
  new URL("../docs/synthetic-grid.png", import.meta.url),
  encode({ width, height, data, channels: 3, depth: 8 }),
);
console.log(`docs/synthetic-grid.png: ${width}×${height}, ${rows.length} rows`);
