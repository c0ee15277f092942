#!/usr/bin/env node
import { classSubsetDataset, shiftedDataset, shuffledIndices } from "@kora/datasets";
import { openDataset } from "@kora/datasets/node";
import {
  classificationTask,
  disposeModel,
  evaluatePixelProbe,
  evaluateTask,
  finetune,
  prepareModel,
  trainPixelProbe,
} from "@kora/finetune";
// The design probe behind the default preset's tasks (docs/reproduction.md, "How the tasks were chosen"): for a
// domain shift and a class split of Fashion-MNIST's held-out train items, the source-task gates (pixel probe,
// linear probe, full fine-tuning, LoRA) and the transfer positive control (source-adapted LoRA, fresh LoRA, head
// only), one line per seed. Exploratory: it chooses designs; the report measures them.
//
//   SHIFTS=none,translate STRENGTH=0.15 SRC="[0,2,3,4,6]" TGT="[1,5,7,8,9]" node apps/repro/scripts/design-probe.mjs
//
// Other variables: DIR (backbone folder, default the shipped one), STEPS (60), LORA_LR (5e-3), FULL_LR (5e-4), FULL_HEAD_LR (the head's rate in full fine-tuning; default FULL_LR), LAYER_DECAY (full fine-tuning's layer-wise decay), TARGET=0 (skip the transfer runs), T
// (wasm threads, 1), SEEDS (0; a comma list), SCORE (val | test). Run after `pnpm build`.
import { selectBackend } from "@kora/tfjs";
import { createViT } from "@kora/vit";

await selectBackend({ prefer: "wasm", threads: Number(process.env.T ?? 1) });

import { openBackbone } from "@kora/finetune/node";

const DIR = process.env.DIR ?? new URL("../backbones/vit-mini-28-fmnist", import.meta.url).pathname;
const base = await openBackbone({ weights: DIR });
const backbone = () => {
  const v = createViT({ ...base.config, numClasses: 0 }, { seed: 0 });
  const src = new Map(base.namedParameters().map((p) => [p.name, p.variable]));
  for (const p of v.namedParameters()) p.variable.assign(src.get(p.name));
  return v;
};
const SRC = JSON.parse(process.env.SRC ?? "[0,1,2,3,4]"),
  TGT = JSON.parse(process.env.TGT ?? "[5,6,7,8,9]");
const trainAll = await openDataset("fashion-mnist", { split: "train" });
const testAll = await openDataset("fashion-mnist", { split: "test" });
// SCORE=val (the default) trains on held-out items 50 000–57 999 and scores on 58 000–59 999, a validation slice
// the report never scores; SCORE=test trains on all of 50 000–59 999 and scores on test items 0–999 (how the first
// designs were chosen).
const onVal = (process.env.SCORE ?? "val") === "val";
const slice = (ds, from, size) => ({
  ...ds,
  size,
  get: (i) => ds.get(from + i),
  label: (i) => ds.label(from + i),
});
const held = slice(trainAll, 50000, onVal ? 8000 : 10000);
const scored = onVal ? slice(trainAll, 58000, 2000) : testAll;
const steps = Number(process.env.STEPS ?? 60),
  B = 32;
const seeds = (process.env.SEEDS ?? "0").split(",").map(Number);
const shifts = (process.env.SHIFTS ?? "none,invert,rotate90,clutter").split(",");
const cfg = backbone().config;
async function run(vit, method, task, ds, idx, st, lr, seed, extra = {}) {
  prepareModel(vit, task, method, seed);
  await finetune({
    vit,
    task,
    dataset: ds,
    indices: idx,
    batchSize: B,
    steps: st,
    learningRate: lr,
    warmupSteps: Math.round(st * 0.1),
    seed,
    ...extra,
  });
}
function print(out, kinds) {
  // What produced the line, as text (the replacer below turns numbers into percentages).
  out.cfg = [
    `backbone ${DIR.split("/").filter(Boolean).at(-1)}`,
    `score ${onVal ? "val" : "test"}`,
    `src ${JSON.stringify(SRC)} tgt ${JSON.stringify(TGT)}`,
    `steps ${steps}`,
    `lora lr ${process.env.LORA_LR ?? "5e-3"}`,
    `full lr ${process.env.FULL_LR ?? "5e-4"}`,
    `full head lr ${process.env.FULL_HEAD_LR ?? "= full lr"}`,
    ...(process.env.LAYER_DECAY === undefined ? [] : [`layer decay ${process.env.LAYER_DECAY}`]),
    ...(kinds.length ? [`strength ${process.env.STRENGTH ?? "0.6"}`] : []),
  ].join("; ");
  console.log(
    JSON.stringify(out, (_k, v) => (typeof v === "number" && _k !== "seed" ? Math.round(v * 1000) / 10 : v)),
  );
}
for (const s of shifts) {
  const kinds = s === "none" ? [] : s.split("+");
  const sh = (d) =>
    kinds.length ? shiftedDataset(d, { kinds, seed: 0, strength: Number(process.env.STRENGTH ?? 0.6) }) : d;
  const src = classSubsetDataset(sh(held), SRC),
    srcTest = classSubsetDataset(sh(scored), SRC);
  const tgt = classSubsetDataset(sh(held), TGT),
    tgtTest = classSubsetDataset(sh(scored), TGT);
  const evalS = { batchSize: 64, indices: Array.from({ length: Math.min(1000, srcTest.size) }, (_, i) => i) };
  const evalT = { batchSize: 64, indices: Array.from({ length: Math.min(1000, tgtTest.size) }, (_, i) => i) };
  const task = classificationTask({ classes: 5 });
  for (const seed of seeds) {
    const out = { shift: s, seed };
    const pp = await trainPixelProbe({
      config: cfg,
      dataset: src,
      batchSize: B,
      steps,
      learningRate: 5e-3,
      seed,
    });
    out.pixel = (await evaluatePixelProbe(pp, cfg, srcTest, evalS)).accuracy;
    pp.dispose();
    let vit = backbone();
    await run(vit, { kind: "head-only" }, task, src, undefined, steps, 5e-3, seed);
    out.lp = (await evaluateTask(vit, task, srcTest, evalS)).accuracy;
    disposeModel(vit);
    vit = backbone();
    const headLr = {
      ...(process.env.FULL_HEAD_LR === undefined
        ? {}
        : { headLearningRate: Number(process.env.FULL_HEAD_LR) }),
      ...(process.env.LAYER_DECAY === undefined ? {} : { layerDecay: Number(process.env.LAYER_DECAY) }),
    };
    await run(
      vit,
      { kind: "full" },
      task,
      src,
      undefined,
      steps,
      Number(process.env.FULL_LR ?? 5e-4),
      seed,
      headLr,
    );
    out.full = (await evaluateTask(vit, task, srcTest, evalS)).accuracy;
    disposeModel(vit);
    vit = backbone();
    const lora = {
      kind: "adapter",
      spec: { method: "lora", rank: 8, alpha: 8, targets: ["query", "value"] },
    };
    await run(vit, lora, task, src, undefined, steps, Number(process.env.LORA_LR ?? 5e-3), seed);
    out.lora = (await evaluateTask(vit, task, srcTest, evalS)).accuracy;
    // transfer: new head, 1 epoch on 1000 target items (TARGET=0: the source task's gates only)
    if (process.env.TARGET === "0") {
      disposeModel(vit);
      print(out, kinds);
      continue;
    }
    const tIdx = Array.from(shuffledIndices(tgt.size, 7 + seed).slice(0, 1000));
    const tSteps = Math.ceil(1000 / B);
    vit.setHead(task.createHead(vit.config, 123 + seed));
    await finetune({
      vit,
      task,
      dataset: tgt,
      indices: tIdx,
      batchSize: B,
      steps: tSteps,
      learningRate: 5e-3,
      warmupSteps: 3,
      seed,
    });
    out.tLoraSrc = (await evaluateTask(vit, task, tgtTest, evalT)).accuracy;
    disposeModel(vit);
    vit = backbone();
    await run(vit, lora, task, tgt, tIdx, tSteps, 5e-3, seed);
    out.tLoraFresh = (await evaluateTask(vit, task, tgtTest, evalT)).accuracy;
    disposeModel(vit);
    vit = backbone();
    await run(vit, { kind: "head-only" }, task, tgt, tIdx, tSteps, 5e-3, seed);
    out.tHead = (await evaluateTask(vit, task, tgtTest, evalT)).accuracy;
    disposeModel(vit);
    print(out, kinds);
  }
}
