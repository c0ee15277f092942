import { existsSync } from "node:fs";
import { dirname, extname, join } from "node:path";
import { disposeModel } from "@kora/finetune";
import { KoraError } from "@kora/spec";
import { writeFileAtomic } from "@kora/spec/node";
import { encodeViT } from "@kora/vit";
import type { Output } from "../output/context";
import type { BackendInputs } from "../run/experiment";
import { openRunModel } from "../run/model";
import { prepareOutputFolder } from "../run/output-folder";
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
  const file = extname(options.out).toLowerCase() === ".safetensors";
  const weights = file ? options.out : join(options.out, "model.safetensors");
  const config = join(file ? dirname(options.out) : options.out, "config.json");
  // Checked before any work: a merge must not silently replace a checkpoint someone else wrote.
  const existing = [weights, config].filter((path) => existsSync(path));
  if (existing.length > 0 && options.force !== true) {
    throw new KoraError({
      code: "OUTPUT_EXISTS",
      message: `--out: ${existing.join(" and ")} already exist${existing.length === 1 ? "s" : ""}; choose another --out, or add --force to replace ${existing.length === 1 ? "it" : "them"}`,
    });
  }
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
    await prepareOutputFolder(dirname(weights));
    await writeFileAtomic(weights, encoded.safetensors);
    await writeFileAtomic(config, new TextEncoder().encode(`${JSON.stringify(encoded.config, null, 2)}\n`));
    output.result(
      () => ({ weights, config, method: run.spec.method, classes: vit.config.numClasses }),
      () =>
        `wrote ${weights} and ${config} (${run.spec.method} merged into the backbone, ${vit.config.numClasses}-class head)`,
    );
  } finally {
    disposeModel(vit);
  }
}
