// LoRA + a depth head on a small ViT, trained, evaluated, saved and loaded back: node examples/quick-start.mjs
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSyntheticDepthDataset } from "@kora/datasets";
import { depthTask, evaluateTask, finetune, prepareModel } from "@kora/finetune";
import { loadModel, openBackbone, saveModel } from "@kora/finetune/node";
import { parseAdapterSpec } from "@kora/spec";

const train = openSyntheticDepthDataset({ split: "train", trainSize: 32 });
const test = openSyntheticDepthDataset({ split: "test", testSize: 8 });
const task = depthTask({ range: [0.5, 10] }); // L1 on log depth, decoded as exp(output) metres
const spec = parseAdapterSpec({ method: "lora", rank: 4 });
const method = /** @type {const} */ ({ kind: "adapter", spec }); // a literal kind, as TrainingMethod wants

const vit = await openBackbone({ preset: "vit-micro", seed: 1 });
prepareModel(vit, task, method, 0); // the depth head + LoRA; the backbone is frozen
const result = await finetune({
  vit,
  task,
  dataset: train,
  batchSize: 8,
  epochs: 2,
  learningRate: 3e-3,
  seed: 0,
});
const scores = await evaluateTask(vit, task, test, { batchSize: 8 });
console.log(`${result.step} steps, loss ${result.loss?.toFixed(3)}; test RMSE ${scores.rmse.toFixed(3)} m`);

const dir = await mkdtemp(join(tmpdir(), "kora-model-"));
await saveModel(vit, dir); // adapter.json + adapter.safetensors, head.safetensors, model.json
const again = await openBackbone({ preset: "vit-micro", seed: 1 });
prepareModel(again, task, method, 0);
await loadModel(again, dir);
const reloaded = await evaluateTask(again, task, test, { batchSize: 8 });
console.log(`reloaded from ${dir}: RMSE ${reloaded.rmse.toFixed(3)} m`);
