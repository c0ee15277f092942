import { type Command, Option } from "commander";
import type { OutputStreams } from "../output/context";
import { action } from "../support/command";
import { addBackendOption } from "../support/command-options";
import { oneOf } from "../support/options";
import type { ExportOptions } from "./export-run";

/** Registers `kora export`. */
export function registerExport(program: Command, streams: OutputStreams): void {
  const command = program
    .command("export")
    .description(
      "Export a run's adapter for another library: --format peft writes a Hugging Face peft LoRA folder.",
    )
    .addOption(
      new Option("--format <format>", "peft (adapter_config.json + adapter_model.safetensors)")
        .argParser(oneOf(["peft"] as const))
        .makeOptionMandatory(),
    )
    .requiredOption("--run <dir>", "a LoRA run folder")
    .requiredOption("--out <dir>", "folder to write")
    .option("--force", "replace adapter_config.json / adapter_model.safetensors when they exist")
    .option(
      "--base-model <name>",
      "base_model_name_or_path, e.g. google/vit-base-patch16-224-in21k (default: the run's --weights path; none for a preset); its shape must be the run's backbone's",
    )
    .option(
      "--base-config <file>",
      "the base model's config.json, to check the adapter against a --base-model kora does not know",
    );
  addBackendOption(command).addHelpText(
    "after",
    `
The folder loads with PeftModel.from_pretrained(ViTForImageClassification.from_pretrained(base), DIR); the
head is saved as modules_to_save ["classifier"].

--base-model is checked against the run's backbone (dim, depth, heads, mlp, patch): known Hugging Face ViT and
DeiT names by a table, a local folder by its config.json, any other name by --base-config FILE.

Example (a LoRA run on a ViT-B/16 backbone):
  kora export --format peft --run runs/lora --out runs/lora-peft --base-model google/vit-base-patch16-224-in21k`,
  );
  action<ExportOptions>(command, streams, async (options, output) =>
    (await import("./export-run")).runExport(options, output),
  );
}
