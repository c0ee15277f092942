import { readdir } from "node:fs/promises";
import { disposeModel } from "@kora/finetune";
import { exportPeft } from "@kora/tfjs/node";
import type { Output } from "../output/context";
import type { BackendInputs } from "../run/experiment";
import { ADAPTER_NAME, openRunModel } from "../run/model";
import { describeBackbone } from "../run/run-file";
import { useBackend } from "../support/backend";
import { checkPeftBaseModel } from "./peft-base-model";

/** Options of `kora export`, as commander parses them. */
export interface ExportOptions extends BackendInputs {
  format: "peft";
  run: string;
  out: string;
  baseModel?: string;
  baseConfig?: string;
}

/** Runs `kora export`. */
export async function runExport(options: ExportOptions, output: Output): Promise<void> {
  await useBackend(options, output);
  const { run, vit } = await openRunModel(options.run);
  try {
    const baseModel = options.baseModel ?? ("weights" in run.backbone ? run.backbone.weights : null);
    if (options.baseModel !== undefined)
      await checkPeftBaseModel(
        vit.backboneShape,
        describeBackbone(run.backbone),
        options.baseModel,
        options.baseConfig,
      );
    // KoRA / AdapterFusion: the package's error (exit 1) says peft has no equivalent.
    await exportPeft(vit, options.out, { name: ADAPTER_NAME, baseModel });
    const files = (await readdir(options.out)).sort();
    output.result(
      () => ({ format: options.format, out: options.out, files, baseModel }),
      () =>
        `wrote ${options.out}: ${files.join(", ")} (peft LoRA${baseModel === null ? "" : ` for ${baseModel}`})`,
    );
  } finally {
    disposeModel(vit);
  }
}
