import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { blockFeatures, classificationTask, disposeModel } from "@kora/finetune";
import { ckaMatrix } from "@kora/metrics";
import type { BackboneInfo } from "./backbone";
import { evaluationIndices, openClassification, type TaskContext } from "./context";
import { writeFeatures } from "./features-file";
import { artifactDir, loadSourceModel } from "./model";
import { pretrainedFeatures } from "./reference-features";
import type { RunRequest, TaskOutput } from "./types";

/** Blocks shown in the paper's Figure 2: first, middle, last (0, 6, 11 for 12 blocks). */
export function figureBlocks(depth: number): number[] {
  return [...new Set([0, Math.floor(depth / 2), depth - 1])];
}

/** 4.3: block × block linear CKA of a 4.1 model on the source evaluation set. */
export async function runCka(
  context: TaskContext,
  backbone: BackboneInfo,
  request: RunRequest,
): Promise<TaskOutput> {
  const { preset } = context;
  const evalSet = await openClassification(preset.source, preset.source.evalSplit);
  const ckaItems = evaluationIndices(evalSet, preset.source.evalSize).slice(0, preset.ckaExamples);
  const task = classificationTask({ classes: evalSet.classes.length });
  const model = await loadSourceModel(context.out, backbone, request, task);
  try {
    const started = performance.now();
    const features = await blockFeatures(model.vit, evalSet, {
      batchSize: preset.batchSize,
      indices: ckaItems,
    });
    const all = ckaMatrix(features);
    const blocks = figureBlocks(features.length);
    const selected = blocks.map((i) => blocks.map((j) => (all[i] as number[])[j] as number));
    const last = features.length - 1;
    // The features themselves, for the report's comparisons across models (every pair of 4.3's models and the
    // frozen backbone, mean-pooled and CLS), stored as .npy beside the run and, for the backbone, once per plan.
    const cls = await blockFeatures(model.vit, evalSet, {
      batchSize: preset.batchSize,
      indices: ckaItems,
      pool: "cls",
    });
    const dir = artifactDir(context.out, request.key);
    const shared = join(context.out, "artifacts", "backbone-features");
    mkdirSync(dir, { recursive: true });
    mkdirSync(shared, { recursive: true });
    const stem = `${backbone.hash}-${ckaItems.length}-${ckaItems[0]}-${ckaItems.at(-1)}`;
    const files = {
      mean: join("artifacts", request.key, "features-mean.npy"),
      cls: join("artifacts", request.key, "features-cls.npy"),
      backboneMean: join("artifacts", "backbone-features", `${stem}-mean.npy`),
      backboneCls: join("artifacts", "backbone-features", `${stem}-cls.npy`),
    };
    writeFeatures(join(context.out, files.mean), features);
    writeFeatures(join(context.out, files.cls), cls);
    for (const pool of ["mean", "cls"] as const) {
      const reference = await pretrainedFeatures(context, backbone, evalSet, ckaItems, pool);
      writeFeatures(join(context.out, pool === "mean" ? files.backboneMean : files.backboneCls), reference);
    }
    return {
      metrics: { distantCka: (all[0] as number[])[last] as number },
      curve: [],
      extra: {
        all,
        selected,
        blocks,
        examples: ckaItems.length,
        pool: "mean of patch tokens",
        features: files,
      },
      trainSeconds: 0,
      evalSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    disposeModel(model.vit);
  }
}
