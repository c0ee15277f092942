// Renders the README's example heatmap to docs/cka-heatmap.svg and docs/cka-heatmap.png with headless Chromium.
// Run after a build: node bench/render-heatmap.mjs   (needs /usr/bin/chromium)
import { writeFileSync } from "node:fs";
import { chromium } from "playwright-core";
import { ckaMatrix, heatmapSvg } from "../dist/index.js";

// Twelve synthetic "layers": each is the previous one plus fresh noise through a random mixing, so similarity
// decays with depth — the banded look of block × block CKA in a ViT.
let seed = 7;
const uniform = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
const n = 256;
const d = 64;
let h = Float64Array.from({ length: n * d }, normal);
const layers = [];
for (let l = 0; l < 12; l++) {
  const next = new Float64Array(n * d);
  for (let i = 0; i < n * d; i++) next[i] = Math.tanh(h[i] + 0.6 * normal());
  h = next;
  layers.push({ rows: n, cols: d, data: h });
}
const names = layers.map((_, i) => `block ${i}`);
const svg = heatmapSvg(ckaMatrix(layers), {
  title: "Linear CKA between blocks",
  rowLabels: names,
  colLabels: names,
  rowTitle: "model A",
  colTitle: "model B",
  min: 0,
  max: 1,
});
writeFileSync(new URL("../docs/cka-heatmap.svg", import.meta.url), svg);
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const page = await browser.newPage({ deviceScaleFactor: 2 });
await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`);
await page.locator("svg").screenshot({ path: new URL("../docs/cka-heatmap.png", import.meta.url).pathname });
await browser.close();
console.log("wrote docs/cka-heatmap.svg and docs/cka-heatmap.png");
