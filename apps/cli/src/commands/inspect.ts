import { type Command, Option } from "commander";
import { addMethodOptions } from "../adapter-flags";
import type { OutputStreams } from "../output/context";
import { action } from "../support/command";
import { nonNegativeInteger } from "../support/options";
import type { InspectOptions } from "./inspect-run";

/** Registers `kora inspect`. */
export function registerInspect(program: Command, streams: OutputStreams): void {
  const command = program
    .command("inspect")
    .description(
      "Count the parameters of an adapted ViT: backbone, adapter, head, trainable share and adapter parameters per block.",
    )
    .addOption(
      new Option(
        "--backbone <name>",
        "a @kora/vit preset: vit-micro, vit-tiny, vit-small, vit-base (patch16-224), vit-tiny-32, …",
      ).conflicts("config"),
    )
    .option(
      "--config <file>",
      "the backbone from a config.json (Hugging Face ViT or timm; classes from its labels)",
    )
    .option(
      "--classes <n>",
      "classes of the classification head, 0 for none (default: the preset's or the config's)",
      nonNegativeInteger,
    );
  addMethodOptions(command).addHelpText(
    "after",
    `
Examples:
  kora inspect --backbone vit-base --method lora --rank 16 --alpha 16 --targets query,value --classes 101
  kora inspect --backbone vit-tiny --method kora --d-comp 8 --classes 100 --json
  kora inspect --config config.json --spec adapter.json`,
  );
  action<InspectOptions>(command, streams, async (options, output) =>
    (await import("./inspect-run")).runInspect(options, output),
  );
}
