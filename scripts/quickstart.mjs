#!/usr/bin/env node
// The Quick start's main job (until the reproduction harness exists): what the built packages can do, on data
// that ships with them. Run with `pnpm start` (which builds first).
import { countParameters, parseAdapterSpec } from "../packages/spec/dist/index.js";

const BACKBONES = {
  "ViT-B/16 224², 100 classes": {
    dim: 768,
    depth: 12,
    heads: 12,
    mlpDim: 3072,
    numClasses: 100,
    patchSize: 16,
    imageSize: 224,
    channels: 3,
  },
  "ViT-Tiny 32², 100 classes": {
    dim: 192,
    depth: 12,
    heads: 3,
    mlpDim: 768,
    numClasses: 100,
    patchSize: 4,
    imageSize: 32,
    channels: 3,
  },
};
const METHODS = {
  "head only": null,
  "LoRA r=8 (q,v)": { method: "lora", rank: 8 },
  "LoRA r=8 (q,k,v)": { method: "lora", rank: 8, targets: ["query", "key", "value"] },
  "KoRA d_comp=4": { method: "kora", composition: { hidden: 4 } },
  "KoRA d_comp=8": { method: "kora", composition: { hidden: 8 } },
  AdapterFusion: { method: "adapter-fusion" },
};

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows
    .map((r) =>
      r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join("  "),
    )
    .join("\n");
}

console.log("KoRA-TS quick start\n");
for (const [label, backbone] of Object.entries(BACKBONES)) {
  const rows = [["method", "adapter", "trainable", "total", "params tuned %"]];
  for (const [name, input] of Object.entries(METHODS)) {
    const count = countParameters(input === null ? null : parseAdapterSpec(input), backbone);
    rows.push([
      name,
      count.adapter.toLocaleString("en"),
      count.trainable.toLocaleString("en"),
      count.total.toLocaleString("en"),
      (100 * count.trainableFraction).toFixed(3),
    ]);
  }
  console.log(`Exact parameter budgets — ${label} (@kora/spec countParameters)\n${table(rows)}\n`);
}

const peft = countParameters(parseAdapterSpec({ method: "lora", rank: 16, alpha: 16 }), {
  ...BACKBONES["ViT-B/16 224², 100 classes"],
  numClasses: 101,
});
const ok = peft.trainable === 667_493 && peft.total === 86_466_149;
console.log(
  `External check: peft's ViT-B/16 LoRA r=16 guide reports 667,493 trainable parameters; we count ${peft.trainable.toLocaleString("en")} of ${peft.total.toLocaleString("en")} — ${ok ? "match" : "MISMATCH"}.`,
);
if (!ok) process.exit(1);
