import { type Command, Option } from "commander";
import type { OutputStreams } from "../output/context";
import { action } from "../support/command";
import {
  commaList,
  finiteNumber,
  integerList,
  nonNegativeInteger,
  oneOf,
  positiveInteger,
} from "../support/options";

/** Options of `kora inspect`, as commander parses them. */
export interface InspectOptions {
  backbone?: string;
  config?: string;
  classes?: number;
  method?: "lora" | "kora" | "adapter-fusion";
  spec?: string;
  rank?: number;
  alpha?: number;
  layers?: number[];
  targets?: string[];
  dComp?: number;
  composition?: "mlp" | "attention";
  gate?: "scalar" | "channel";
  adapters?: number;
  reduction?: number;
  fusion?: "static" | "dynamic";
}

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
    )
    .addOption(
      new Option("--method <method>", "adapter method: lora, kora, adapter-fusion")
        .argParser(oneOf(["lora", "kora", "adapter-fusion"] as const))
        .conflicts("spec"),
    )
    .option(
      "--spec <file>",
      "adapter spec JSON (or an adapter folder's adapter.json) instead of --method flags",
    )
    .option("--rank <r>", "rank of the low-rank updates (lora, kora; default 8)", positiveInteger)
    .option("--alpha <a>", "scaling numerator alpha (lora, kora; default 8)", finiteNumber)
    .option("--layers <list>", "blocks that get adapters, e.g. 0,6,11 (default: all)", integerList)
    .option(
      "--targets <list>",
      "projections for lora: query,key,value,output,fc1,fc2 (default query,value)",
      commaList,
    )
    .option("--d-comp <h>", "hidden width of KoRA's composition block (kora; default 4)", positiveInteger)
    .addOption(
      new Option(
        "--composition <kind>",
        "KoRA composition block: mlp or attention (kora; default mlp)",
      ).argParser(oneOf(["mlp", "attention"] as const)),
    )
    .addOption(
      new Option("--gate <per>", "KoRA gate: scalar or channel (kora; default scalar)").argParser(
        oneOf(["scalar", "channel"] as const),
      ),
    )
    .option("--adapters <n>", "number of bottleneck adapters (adapter-fusion; default 2)", positiveInteger)
    .option("--reduction <r>", "bottleneck = dim / reduction (adapter-fusion; default 64)", positiveInteger)
    .addOption(
      new Option(
        "--fusion <variant>",
        "fusion attention: static or dynamic (adapter-fusion; default static)",
      ).argParser(oneOf(["static", "dynamic"] as const)),
    )
    .addHelpText(
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
