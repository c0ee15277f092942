import { readdir } from "node:fs/promises";
import { exportPeft } from "@kora/tfjs/node";
import type { Output } from "../output/context";
import { ADAPTER_NAME, openRunModel } from "../run/model";
import type { ExportOptions } from "./export";
import { useBackend } from "./train-run";

/** Runs `kora export`. */
export async function runExport(options: ExportOptions, output: Output): Promise<void> {
  await useBackend(options, output);
  const { run, vit } = await openRunModel(options.run);
  try {
    const baseModel = options.baseModel ?? ("weights" in run.backbone ? run.backbone.weights : null);
    // KoRA / AdapterFusion: the package's error (exit 1) says peft has no equivalent.
    await exportPeft(vit, options.out, { name: ADAPTER_NAME, baseModel });
    const files = (await readdir(options.out)).sort();
    output.result(
      () => ({ format: options.format, out: options.out, files, baseModel }),
      () =>
        `wrote ${options.out}: ${files.join(", ")} (peft LoRA${baseModel === null ? "" : ` for ${baseModel}`})`,
    );
  } finally {
    vit.dispose();
  }
}
