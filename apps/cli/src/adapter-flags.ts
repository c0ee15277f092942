import { type AdapterSpec, type BackboneShape, KoraError, TARGET_MODULES } from "@kora/spec";
import { type Command, Option } from "commander";
import { parseAdapterSpecWithHints } from "./adapter-spec-input";
import { UsageError } from "./support/errors";
import { readJson } from "./support/files";
import { commaList, finiteNumber, integerList, oneOf, positiveInteger } from "./support/options";
import { didYouMean } from "./support/suggest";

type Method = AdapterSpec["method"];

/** The method flags shared by `kora inspect` and `kora train`, as commander parses them. */
export interface MethodOptions {
  method?: Method;
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

/** Method flags: the spec field each sets, and the methods it applies to. */
const METHOD_FLAGS = {
  rank: { flag: "--rank", path: "rank", methods: ["lora", "kora"] },
  alpha: { flag: "--alpha", path: "alpha", methods: ["lora", "kora"] },
  layers: { flag: "--layers", path: "layers", methods: ["lora", "kora", "adapter-fusion"] },
  targets: { flag: "--targets", path: "targets", methods: ["lora"] },
  dComp: { flag: "--d-comp", path: "composition.hidden", methods: ["kora"] },
  composition: { flag: "--composition", path: "composition.kind", methods: ["kora"] },
  gate: { flag: "--gate", path: "gate.per", methods: ["kora"] },
  adapters: { flag: "--adapters", path: "adapters", methods: ["adapter-fusion"] },
  reduction: { flag: "--reduction", path: "reduction", methods: ["adapter-fusion"] },
  fusion: { flag: "--fusion", path: "fusion.variant", methods: ["adapter-fusion"] },
} as const satisfies Record<string, { flag: string; path: string; methods: readonly Method[] }>;

type MethodFlag = keyof typeof METHOD_FLAGS;

/** The option names (camelCase) of the method flags, without `method` and `spec`. */
export const METHOD_FLAG_NAMES = Object.keys(METHOD_FLAGS) as MethodFlag[];

/** Adds `--method`, `--spec` and the method flags to a command. */
export function addMethodOptions(
  command: Command,
  layersHelp = "blocks that get adapters, e.g. 0,6,11 (default: all)",
): Command {
  return command
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
    .option("--layers <list>", layersHelp, integerList)
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
    );
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split(".");
  let current = target;
  for (const key of keys.slice(0, -1)) {
    current[key] ??= {};
    current = current[key] as Record<string, unknown>;
  }
  current[keys[keys.length - 1]!] = value;
}

/** The adapter spec input the method flags describe (validated by @kora/spec afterwards). */
export function specInputFromFlags(method: Method, options: MethodOptions): Record<string, unknown> {
  const input: Record<string, unknown> = { method };
  for (const [name, { flag, path, methods }] of Object.entries(METHOD_FLAGS)) {
    let value = options[name as MethodFlag];
    if (value === undefined) continue;
    if (!(methods as readonly Method[]).includes(method)) {
      throw new UsageError(`${flag} applies to --method ${methods.join(" or ")}, not ${method}`);
    }
    if (name === "targets") {
      for (const target of value as string[]) {
        if (!(TARGET_MODULES as readonly string[]).includes(target)) {
          throw new UsageError(
            `--targets: unknown projection "${target}", expected ${TARGET_MODULES.join(", ")}${didYouMean(target, TARGET_MODULES)}`,
          );
        }
      }
    }
    if (name === "adapters") {
      value = Array.from({ length: value as number }, (_, i) => `adapter_${i}`);
    }
    setPath(input, path, value);
  }
  return input;
}

/** Turns an INVALID_SPEC error about a field that came from a flag into a usage error naming the flag. */
export function asFlagError(error: unknown): unknown {
  if (!KoraError.isInstance(error) || error.code !== "INVALID_SPEC" || error.path === undefined) return error;
  const path = error.path.replace(/\[\d+\]$/, "");
  const entry = Object.values(METHOD_FLAGS).find((f) => f.path === path);
  if (entry === undefined) return error;
  return new UsageError(`${entry.flag}: ${error.message}`, { cause: error });
}

/** An adapter spec resolved from `--spec` or the method flags. */
export interface ResolvedSpec {
  spec: AdapterSpec;
  /** The backbone stored in an adapter manifest given to --spec, if any. */
  manifestBackbone: BackboneShape | undefined;
}

/**
 * Parses a spec input that came from a file: a bare spec, or an adapter folder's `adapter.json` (format
 * `"kora-adapter"`, which carries the spec and the backbone it was made for).
 */
export function specFromFileInput(input: unknown, source: string): ResolvedSpec {
  if (
    input !== null &&
    typeof input === "object" &&
    (input as { format?: unknown }).format === "kora-adapter"
  ) {
    const manifest = input as { spec?: unknown; backbone?: unknown };
    return {
      spec: parseAdapterSpecWithHints(manifest.spec, `${source} (spec)`),
      manifestBackbone: manifest.backbone as BackboneShape | undefined,
    };
  }
  return { spec: parseAdapterSpecWithHints(input, source), manifestBackbone: undefined };
}

/** The adapter spec of `--spec FILE` or of `--method` and its flags. */
export async function resolveSpec(options: MethodOptions): Promise<ResolvedSpec> {
  if (options.spec !== undefined) {
    if (options.method === undefined) {
      for (const name of METHOD_FLAG_NAMES) {
        if (options[name] !== undefined) {
          throw new UsageError(
            `${METHOD_FLAGS[name].flag} cannot be combined with --spec (edit the spec file)`,
          );
        }
      }
    }
    return specFromFileInput(await readJson(options.spec, "--spec"), options.spec);
  }
  if (options.method === undefined) {
    throw new UsageError("give --method lora|kora|adapter-fusion (with its flags) or --spec FILE");
  }
  const input = specInputFromFlags(options.method, options);
  try {
    return { spec: parseAdapterSpecWithHints(input, undefined), manifestBackbone: undefined };
  } catch (error) {
    throw asFlagError(error);
  }
}
