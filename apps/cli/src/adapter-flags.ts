import {
  ADAPTER_METHOD_REGISTRY,
  ADAPTER_METHODS,
  type AdapterMethod,
  type AdapterSpec,
  type BackboneShape,
  defaultAdapterSpec,
  didYouMean,
  KoraError,
  TARGET_MODULES,
} from "@kora/spec";
import { type Command, InvalidArgumentError, Option } from "commander";
import { parseAdapterSpecWithHints } from "./adapter-spec-input";
import { UsageError } from "./support/errors";
import { readJson } from "./support/files";
import { commaList, finiteNumber, integerList, oneOf, positiveInteger } from "./support/options";

type Method = AdapterMethod;

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
  apply?: "value" | "qkv" | "composed-qkv";
  basis?: BasisFlag;
}

/** `--basis` as parsed: the basis kind and what the flag spelled out (the spec fills the rest). */
export type BasisFlag =
  | { kind: "fixed" }
  | { kind: "rbf"; grid?: number; range?: [number, number] }
  | { kind: "bspline"; grid?: number; order?: number; range?: [number, number] };

/**
 * Argument parser for `--basis`: `fixed`, `rbf[:G[:lo,hi]]` or `bspline[:G[:order[:lo,hi]]]`, e.g. `rbf:8`,
 * `bspline:8:3`, `rbf:12:-3,3`. Numbers are only parsed here; their ranges are checked by `@kora/spec`, whose
 * error then names the flag.
 */
export function basisFlag(value: string): BasisFlag {
  const [kind, ...rest] = value.trim().split(":");
  const usage = "expected fixed, rbf[:G[:lo,hi]] or bspline[:G[:order[:lo,hi]]], e.g. rbf:8 or bspline:8:3";
  const range = (text: string): [number, number] => {
    const bounds = text.split(",").map((item) => item.trim());
    if (bounds.length !== 2) throw new InvalidArgumentError(`${usage}; the range is "lo,hi", got "${text}".`);
    return [finiteNumber(bounds[0] as string), finiteNumber(bounds[1] as string)];
  };
  const numbers = rest.filter((part) => !part.includes(","));
  const ranges = rest.filter((part) => part.includes(","));
  const last = rest.at(-1);
  if (ranges.length > 1 || (ranges.length === 1 && !last?.includes(","))) {
    throw new InvalidArgumentError(`${usage}.`);
  }
  const withRange = ranges.length === 1 ? { range: range(ranges[0] as string) } : {};
  if (kind === "fixed" && rest.length === 0) return { kind: "fixed" };
  if (kind === "rbf" && numbers.length <= 1) {
    return { kind, ...(numbers[0] === undefined ? {} : { grid: positiveInteger(numbers[0]) }), ...withRange };
  }
  if (kind === "bspline" && numbers.length <= 2) {
    return {
      kind,
      ...(numbers[0] === undefined ? {} : { grid: positiveInteger(numbers[0]) }),
      ...(numbers[1] === undefined ? {} : { order: positiveInteger(numbers[1]) }),
      ...withRange,
    };
  }
  throw new InvalidArgumentError(`${usage}${didYouMean(kind ?? "", ["fixed", "rbf", "bspline"])}.`);
}

/**
 * Method flags and the spec field each sets (the first of `paths` that a method's spec has). Which methods a
 * flag applies to, and its default, are read from @kora/spec's method registry, so a new method gets the flags
 * its spec has fields for without an edit here.
 */
const FLAG_PATHS = {
  rank: { flag: "--rank", paths: ["rank"] },
  alpha: { flag: "--alpha", paths: ["alpha"] },
  layers: { flag: "--layers", paths: ["layers"] },
  targets: { flag: "--targets", paths: ["targets"] },
  dComp: { flag: "--d-comp", paths: ["composition.hidden", "hidden"] },
  composition: { flag: "--composition", paths: ["composition.kind"] },
  gate: { flag: "--gate", paths: ["gate.per"] },
  adapters: { flag: "--adapters", paths: ["adapters"] },
  reduction: { flag: "--reduction", paths: ["reduction"] },
  fusion: { flag: "--fusion", paths: ["fusion.variant"] },
  apply: { flag: "--apply", paths: ["apply"] },
  // Optional in the spec (absent means fixed), so it applies where the default spec has its parent object.
  basis: { flag: "--basis", paths: ["composition.basis"], optional: true },
} as const satisfies Record<string, { flag: string; paths: readonly string[]; optional?: boolean }>;

function valueAtPath(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split(".")) {
    if (current === null || typeof current !== "object" || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/**
 * The spec field a flag sets for `method`, or `undefined` when the method's spec has none of its fields. An
 * optional field counts when the method's default spec has the object it belongs to.
 */
function pathFor(paths: readonly string[], method: Method, optional = false): string | undefined {
  const defaults = defaultAdapterSpec(method);
  return paths.find((path) => {
    if (valueAtPath(defaults, path) !== undefined) return true;
    const parent = path.split(".").slice(0, -1).join(".");
    return optional && parent !== "" && typeof valueAtPath(defaults, parent) === "object";
  });
}

const METHOD_FLAGS = Object.fromEntries(
  Object.entries(FLAG_PATHS).map(([name, entry]) => [
    name,
    {
      ...entry,
      methods: ADAPTER_METHODS.filter(
        (method) => pathFor(entry.paths, method, "optional" in entry) !== undefined,
      ),
    },
  ]),
) as { [K in keyof typeof FLAG_PATHS]: (typeof FLAG_PATHS)[K] & { methods: Method[] } };

type MethodFlag = keyof typeof FLAG_PATHS;

/**
 * `"(lora, kora; default 8)"`: the methods a flag applies to and its default (read from the first of them unless
 * `shownDefault` says how the flag spells it).
 */
function applies(name: MethodFlag, shownDefault?: string): string {
  const entry = METHOD_FLAGS[name];
  const { paths, methods } = entry;
  const first = methods[0];
  const path = first === undefined ? undefined : pathFor(paths, first, "optional" in entry);
  const value =
    shownDefault ?? (path === undefined ? undefined : valueAtPath(defaultAdapterSpec(first as Method), path));
  return `(${methods.join(", ")}${value === undefined || value === null ? "" : `; default ${String(value)}`})`;
}

/** The option names (camelCase) of the method flags, without `method` and `spec`. */
export const METHOD_FLAG_NAMES = Object.keys(METHOD_FLAGS) as MethodFlag[];

/** Adds `--method`, `--spec` and the method flags to a command. */
export function addMethodOptions(
  command: Command,
  layersHelp = "blocks that get adapters, e.g. 0,6,11 (default: all)",
): Command {
  const methods = ADAPTER_METHODS.map((m) => `${m} (${ADAPTER_METHOD_REGISTRY[m].summary})`).join("; ");
  return command
    .addOption(
      new Option("--method <method>", `adapter method: ${methods}`)
        .argParser(oneOf(ADAPTER_METHODS))
        .conflicts("spec"),
    )
    .option(
      "--spec <file>",
      "adapter spec JSON (or an adapter folder's adapter.json) instead of --method flags",
    )
    .option("--rank <r>", `rank of the low-rank updates ${applies("rank")}`, positiveInteger)
    .option("--alpha <a>", `scaling numerator alpha ${applies("alpha")}`, finiteNumber)
    .option("--layers <list>", layersHelp, integerList)
    .option(
      "--targets <list>",
      `projections: query,key,value,output,fc1,fc2 ${applies("targets", "query,value")}`,
      commaList,
    )
    .option(
      "--d-comp <h>",
      `hidden width of the composition block or bottleneck ${applies("dComp")}`,
      positiveInteger,
    )
    .addOption(
      new Option(
        "--composition <kind>",
        `KoRA composition block: mlp or attention ${applies("composition")}`,
      ).argParser(oneOf(["mlp", "attention"] as const)),
    )
    .addOption(
      new Option("--gate <per>", `gate: scalar or channel ${applies("gate")}`).argParser(
        oneOf(["scalar", "channel"] as const),
      ),
    )
    .option("--adapters <n>", `number of bottleneck adapters ${applies("adapters", "2")}`, positiveInteger)
    .option("--reduction <r>", `bottleneck = dim / reduction ${applies("reduction")}`, positiveInteger)
    .addOption(
      new Option("--fusion <variant>", `fusion attention: static or dynamic ${applies("fusion")}`).argParser(
        oneOf(["static", "dynamic"] as const),
      ),
    )
    .addOption(
      new Option(
        "--apply <mode>",
        `where KoRA's update enters attention: value (v only), qkv (plus the raw q/k/v deltas) or composed-qkv (three composition outputs, one gate each) ${applies("apply")}`,
      ).argParser(oneOf(["value", "qkv", "composed-qkv"] as const)),
    )
    .option(
      "--basis <basis>",
      `KoRA composition function between fc1 and fc2: fixed, rbf[:G[:lo,hi]] or bspline[:G[:order[:lo,hi]]], e.g. rbf:8 ${applies("basis", "fixed")}`,
      basisFlag,
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
  for (const [name, entry] of Object.entries(METHOD_FLAGS)) {
    const { flag, paths, methods } = entry;
    let value = options[name as MethodFlag];
    if (value === undefined) continue;
    const path = pathFor(paths, method, "optional" in entry);
    if (path === undefined) {
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
  // A flag that sets an object (--basis) owns the errors of its fields too (composition.basis.grid).
  const entry = Object.values(METHOD_FLAGS).find((f) =>
    (f.paths as readonly string[]).some((p) => path === p || path.startsWith(`${p}.`)),
  );
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
    throw new UsageError(`give --method ${ADAPTER_METHODS.join("|")} (with its flags) or --spec FILE`);
  }
  const input = specInputFromFlags(options.method, options);
  try {
    return { spec: parseAdapterSpecWithHints(input, undefined), manifestBackbone: undefined };
  } catch (error) {
    throw asFlagError(error);
  }
}
