import { dirname, relative, resolve } from "node:path";
import { blockFeatures, disposeModel } from "@kora/finetune";
import { writeSafetensors } from "@kora/spec";
import type { Output } from "../output/context";
import { createProgress } from "../output/progress";
import { openDatasetSplit, runDataset } from "../run/data";
import { firstIndices } from "../run/evaluation";
import type { BackendInputs } from "../run/experiment";
import { openRunModel } from "../run/model";
import {
  checkOutputFiles,
  prepareOutputFolder,
  removeCreatedFolders,
  writeOutputFile,
} from "../run/output-folder";
import { useBackend } from "../support/backend";
import { UsageError } from "../support/errors";

/** Options of `kora features`, as commander parses them. */
export interface FeaturesOptions extends BackendInputs {
  run: string;
  dataset?: string;
  root?: string;
  split?: string;
  batchSize: number;
  limit?: number;
  layers: number[] | "all";
  pool: "cls" | "mean";
  adapter: boolean;
  out: string;
  /** Replace the --out file when it exists. */
  force?: boolean;
}

/** Runs `kora features`. */
export async function runFeatures(options: FeaturesOptions, output: Output): Promise<void> {
  // Checked before any work: a path that cannot be written fails at once, and an existing file is not replaced
  // without --force.
  await checkOutputFiles([{ path: options.out, flag: "--out" }], options.force);
  const { created } = await prepareOutputFolder(dirname(resolve(options.out)), "--out");
  let failed = true;
  try {
    await extractFeatures(options, output);
    failed = false;
  } finally {
    if (failed) await removeCreatedFolders(created);
  }
}

async function extractFeatures(options: FeaturesOptions, output: Output): Promise<void> {
  await useBackend(options, output);
  const { run, vit, handle } = await openRunModel(options.run);
  try {
    const depth = vit.config.depth;
    const layers = options.layers === "all" ? Array.from({ length: depth }, (_, k) => k) : options.layers;
    const bad = layers.find((k) => k >= depth);
    if (bad !== undefined) {
      throw new UsageError(`--layers: block ${bad} does not exist; the backbone has blocks 0-${depth - 1}`);
    }
    if (!options.adapter) handle.disableAdapters();
    const dataset = await openDatasetSplit(runDataset(run, options));
    const indices = firstIndices(dataset, options.limit);
    const examples = indices?.length ?? dataset.size;
    const dim = vit.config.dim;
    const progress = createProgress(output, {
      label: "features",
      total: Math.ceil(examples / options.batchSize),
    });
    let matrices: Awaited<ReturnType<typeof blockFeatures>>;
    try {
      matrices = await blockFeatures(vit, dataset, {
        batchSize: options.batchSize,
        indices,
        blocks: layers,
        pool: options.pool,
        onBatch: () => progress.tick(),
      });
    } finally {
      progress.stop();
    }
    const tensors = Object.fromEntries(
      layers.map((k, i) => [
        `block.${k}`,
        { dtype: "F32" as const, shape: [examples, dim], data: matrices[i]!.data as Float32Array },
      ]),
    );
    await writeOutputFile(
      options.out,
      writeSafetensors(tensors, {
        // relative to the features file: no absolute path of this machine in a file that gets shared
        run: relative(dirname(resolve(options.out)), resolve(options.run)) || ".",
        dataset: dataset.name,
        split: dataset.split,
        pool: options.pool,
        adapter: String(options.adapter),
      }),
      "--out",
    );
    output.result(
      () => ({
        out: options.out,
        tensors: layers.map((k) => `block.${k}`),
        shape: [examples, dim],
        dataset: dataset.name,
        split: dataset.split,
        pool: options.pool,
        adapter: options.adapter,
      }),
      () =>
        `wrote ${options.out}: ${layers.length} tensors (${layers.map((k) => `block.${k}`).join(", ")}), each [${examples}, ${dim}], ${options.pool} pooling, ${dataset.name} ${dataset.split}${options.adapter ? "" : ", without the adapter"}`,
    );
  } finally {
    disposeModel(vit);
  }
}
