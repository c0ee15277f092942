import { dirname, extname, join } from "node:path";
import { disposeModel } from "@kora/finetune";
import { encodeViT } from "@kora/vit";
import type { Output } from "../output/context";
import type { BackendInputs } from "../run/experiment";
import { openRunModel } from "../run/model";
import {
  checkNotEmpty,
  checkOutputFiles,
  prepareOutputFolder,
  removeCreatedFolders,
  writeOutputFile,
} from "../run/output-folder";
import { useBackend } from "../support/backend";

/** Options of `kora merge`, as commander parses them. */
export interface MergeOptions extends BackendInputs {
  run: string;
  out: string;
  /** Replace existing output files. */
  force?: boolean;
}

/** Runs `kora merge`. */
export async function runMerge(options: MergeOptions, output: Output): Promise<void> {
  checkNotEmpty(options.out);
  const file = extname(options.out).toLowerCase() === ".safetensors";
  const weights = file ? options.out : join(options.out, "model.safetensors");
  const config = join(file ? dirname(options.out) : options.out, "config.json");
  // Checked before any work: a merge must not silently replace a checkpoint someone else wrote, and a folder that
  // cannot be made fails at once.
  await checkOutputFiles(
    [weights, config].map((path) => ({ path, flag: "--out" })),
    options.force,
  );
  const { created } = await prepareOutputFolder(dirname(weights));
  let failed = true;
  try {
    await mergeRun(options, weights, config, output);
    failed = false;
  } finally {
    if (failed) await removeCreatedFolders(created);
  }
}

async function mergeRun(
  options: MergeOptions,
  weights: string,
  config: string,
  output: Output,
): Promise<void> {
  await useBackend(options, output);
  const { run, vit, handle } = await openRunModel(options.run);
  try {
    // KoRA / AdapterFusion: the package's NOT_MERGEABLE error (exit 1) says why.
    handle.mergeAdapters();
    const encoded = encodeViT(vit);
    const classes = run.dataset.classes;
    if (classes !== undefined && run.head.kind === "classification") {
      encoded.config["id2label"] = Object.fromEntries(classes.map((name, i) => [String(i), name]));
      encoded.config["label2id"] = Object.fromEntries(classes.map((name, i) => [name, i]));
    }
    await writeOutputFile(weights, encoded.safetensors, "--out");
    await writeOutputFile(config, `${JSON.stringify(encoded.config, null, 2)}\n`, "--out");
    output.result(
      () => ({ weights, config, method: run.spec.method, classes: vit.config.numClasses }),
      () =>
        `wrote ${weights} and ${config} (${run.spec.method} merged into the backbone, ${vit.config.numClasses}-class head)`,
    );
  } finally {
    disposeModel(vit);
  }
}
