import { mkdtemp, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { disposeModel } from "@kora/finetune";
import { PEFT_FILES } from "@kora/spec";
import { exportPeft } from "@kora/tfjs/node";
import type { Output } from "../output/context";
import type { BackendInputs } from "../run/experiment";
import { ADAPTER_NAME, openRunModel } from "../run/model";
import {
  checkNotEmpty,
  checkOutputFiles,
  prepareOutputFolder,
  removeCreatedFolders,
  writeError,
} from "../run/output-folder";
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
  /** Replace adapter_config.json / adapter_model.safetensors when they exist. */
  force?: boolean;
}

/** Runs `kora export`. */
export async function runExport(options: ExportOptions, output: Output): Promise<void> {
  checkNotEmpty(options.out);
  // Checked before any work: a folder that cannot be made fails at once, and peft files already there are not
  // replaced without --force.
  const files = [PEFT_FILES.config, PEFT_FILES.tensors].map((name) => join(options.out, name));
  await checkOutputFiles(
    files.map((path) => ({ path, flag: "--out" })),
    options.force,
  );
  const { created } = await prepareOutputFolder(options.out);
  let failed = true;
  try {
    await exportRun(options, output);
    failed = false;
  } finally {
    if (failed) await removeCreatedFolders(created);
  }
}

/**
 * Writes the peft files into a temporary folder inside --out, then renames them into place: nothing in --out is
 * replaced until both files are complete, and a failure leaves neither half behind.
 */
async function writePeftFiles(out: string, write: (dir: string) => Promise<void>): Promise<void> {
  let staging: string;
  try {
    staging = await mkdtemp(join(out, ".kora-export-"));
  } catch (error) {
    throw writeError(out, "--out", error);
  }
  try {
    try {
      await write(staging);
    } catch (error) {
      throw writeError(out, "--out", error);
    }
    for (const name of [PEFT_FILES.tensors, PEFT_FILES.config]) {
      try {
        await rename(join(staging, name), join(out, name));
      } catch (error) {
        throw writeError(join(out, name), "--out", error);
      }
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function exportRun(options: ExportOptions, output: Output): Promise<void> {
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
    await writePeftFiles(options.out, (dir) => exportPeft(vit, dir, { name: ADAPTER_NAME, baseModel }));
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
