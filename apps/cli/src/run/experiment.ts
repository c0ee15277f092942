import { dirname, extname, resolve } from "node:path";
import { ADAPTER_METHODS, didYouMean, KoraError, MAX_JSON_DEPTH } from "@kora/spec";
import { InvalidArgumentError } from "commander";
import { isScalar, LineCounter, parseDocument, visit } from "yaml";
import { basisFlag, type MethodOptions } from "../adapter-flags";
import { checkReadableFile, readAtMost } from "../support/files";
import {
  commaList,
  finiteNumber,
  integerList,
  nonNegativeInteger,
  oneOf,
  positiveInteger,
  wasmThreads,
} from "../support/options";

/** The flags `addBackendOption` adds to every command that runs a model. */
export interface BackendInputs {
  backend?: "tensorflow" | "wasm" | "cpu";
  /** XNNPACK threads of the wasm backend (`KORA_WASM_THREADS` overrides). */
  threads?: number | "auto";
}

/** The flags `addOptimisationOptions` adds to `kora train` and `kora transfer`. */
export interface OptimisationInputs {
  epochs?: number;
  steps?: number;
  batchSize?: number;
  lr?: number;
  weightDecay?: number;
  gateLrMultiplier?: number;
  headLr?: number;
  warmup?: number;
  seed?: number;
  checkpointEvery?: number;
}

/** What `kora train` reads from its flags or from `--experiment FILE` (the same names, camelCase in files). */
export interface TrainInputs extends MethodOptions, BackendInputs, OptimisationInputs {
  backbone?: string;
  weights?: string;
  config?: string;
  dataset?: string;
  root?: string;
  /** An inline adapter spec (experiment files only; flags use `--spec FILE`). */
  adapter?: Record<string, unknown>;
  out?: string;
}

type Check = (value: unknown) => unknown;

/** Runs a commander argument parser on a file value (numbers and lists may be written natively or as strings). */
function viaFlagParser(parse: (text: string) => unknown, list = false): Check {
  return (value) => {
    if (list && Array.isArray(value)) {
      // Only numbers and names: String() of an object throws when it has a `toString` key that is no function.
      if (!value.every((item) => typeof item === "string" || typeof item === "number"))
        throw new InvalidArgumentError("expected a list of numbers or names.");
      return parse(value.join(","));
    }
    if (typeof value !== "string" && typeof value !== "number")
      throw new InvalidArgumentError("expected a value.");
    return parse(String(value));
  };
}

function text(value: unknown): string {
  if (typeof value !== "string" || value === "")
    throw new InvalidArgumentError("expected a non-empty string.");
  return value;
}

/** A path: a non-empty string without NUL, which no file system allows (Node throws on it, untyped). */
function pathText(value: unknown): string {
  const path = text(value);
  if (path.includes("\0")) throw new InvalidArgumentError("expected a path; it holds a NUL character.");
  return path;
}

function object(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new InvalidArgumentError("expected an object (an adapter spec).");
  }
  return value as Record<string, unknown>;
}

/** Every key an experiment file may hold, with its check. Paths are resolved against the file's folder. */
const KEYS: Record<keyof TrainInputs, Check> = {
  backbone: text,
  weights: pathText,
  config: pathText,
  dataset: text,
  root: pathText,
  method: viaFlagParser(oneOf(ADAPTER_METHODS)),
  spec: pathText,
  adapter: object,
  rank: viaFlagParser(positiveInteger),
  alpha: viaFlagParser(finiteNumber),
  layers: viaFlagParser(integerList, true),
  targets: viaFlagParser(commaList, true),
  dComp: viaFlagParser(positiveInteger),
  composition: viaFlagParser(oneOf(["mlp", "attention"] as const)),
  gate: viaFlagParser(oneOf(["scalar", "channel"] as const)),
  adapters: viaFlagParser(positiveInteger),
  reduction: viaFlagParser(positiveInteger),
  fusion: viaFlagParser(oneOf(["static", "dynamic"] as const)),
  apply: viaFlagParser(oneOf(["value", "qkv", "composed-qkv"] as const)),
  basis: viaFlagParser(basisFlag),
  epochs: viaFlagParser(positiveInteger),
  steps: viaFlagParser(positiveInteger),
  batchSize: viaFlagParser(positiveInteger),
  lr: viaFlagParser(finiteNumber),
  weightDecay: viaFlagParser(finiteNumber),
  gateLrMultiplier: viaFlagParser(finiteNumber),
  headLr: viaFlagParser(finiteNumber),
  warmup: viaFlagParser(nonNegativeInteger),
  seed: viaFlagParser(nonNegativeInteger),
  checkpointEvery: viaFlagParser(positiveInteger),
  out: pathText,
  backend: viaFlagParser(oneOf(["tensorflow", "wasm", "cpu"] as const)),
  threads: viaFlagParser(wasmThreads),
};

const PATH_KEYS = ["weights", "config", "root", "spec", "out"] as const;

/** The key names an experiment file accepts. */
export const EXPERIMENT_KEYS = Object.keys(KEYS);

function invalid(file: string, message: string, path?: string): KoraError {
  return new KoraError({
    code: "INVALID_EXPERIMENT",
    message: `${file}: ${message}`,
    ...(path === undefined ? {} : { path }),
  });
}

/** Keys that reach or replace an object's prototype when a value is copied or merged. */
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/**
 * Rejects `__proto__`, `constructor` and `prototype` keys at any depth (an inline adapter spec included), walking
 * the parsed value without recursion so a deeply nested file cannot overflow the stack.
 */
function checkSafeKeys(value: unknown, file: string): void {
  const stack: [unknown, string, number][] = [[value, "", 0]];
  while (stack.length > 0) {
    const [current, path, depth] = stack.pop()!;
    if (current === null || typeof current !== "object") continue;
    // No setting nests deeper than an inline adapter spec does: a deeper value is refused before any message or
    // check turns it into text (a 100 000-deep value overflowed the stack there).
    if (depth >= MAX_JSON_DEPTH) {
      throw invalid(file, `${clip(path)}: nested deeper than ${MAX_JSON_DEPTH} levels`, path.split(".")[0]);
    }
    for (const key of Object.keys(current)) {
      const at = path === "" ? key : `${path}.${key}`;
      if (FORBIDDEN_KEYS.has(key)) {
        throw invalid(
          file,
          `${clip(at)}: the key "${key}" is not allowed (it could alter object prototypes)`,
          at,
        );
      }
      stack.push([(current as Record<string, unknown>)[key], at, depth + 1]);
    }
  }
}

/** Text for an error message, cut to `limit` characters (a key or a value may be long). */
function clip(text: string, limit = 200): string {
  return text.length > limit ? `${text.slice(0, limit)}…` : text;
}

/** A value as JSON for an error message, cut to `limit` characters (a bad value may be megabytes long). */
function shown(value: unknown, limit = 200): string {
  return clip(JSON.stringify(value) ?? String(value), limit);
}

/** Keys longer than this get no "did you mean" (the edit distance is quadratic in the key's length). */
const MAX_SUGGESTED_KEY = 64;

/**
 * YAML as the `yaml` library's `parse` reads it (its warnings emitted, its first error thrown), with duplicate keys
 * found in linear time: the library's own check compares every key with each earlier one, and 8 000 keys took
 * seconds.
 */
function parseYaml(source: string): unknown {
  const lineCounter = new LineCounter();
  const document = parseDocument(source, { uniqueKeys: false, lineCounter });
  for (const warning of document.warnings) process.emitWarning(warning);
  if (document.errors.length > 0) throw document.errors[0];
  visit(document, {
    Map(_, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        if (seen.has(pair.key.value)) {
          const range = pair.key.range;
          const at = range == null ? "" : ` (line ${lineCounter.linePos(range[0]).line})`;
          throw new Error(`map keys must be unique: ${shown(pair.key.value)} appears twice${at}`);
        }
        seen.add(pair.key.value);
      }
    },
  });
  return document.toJS();
}

/**
 * The largest experiment file read, in bytes: settings take a few hundred bytes, an inline adapter spec a few
 * more. The bound keeps parsing (and the messages that quote the file) to a fraction of a second.
 */
export const MAX_EXPERIMENT_BYTES = 64 * 1024;

/**
 * Reads and validates an experiment file (`.json`, `.yaml` / `.yml`): the `kora train` flags as keys (camelCase:
 * `batchSize`, `dComp`; kebab-case is accepted too), an inline `adapter` spec instead of the method keys if wished.
 * An unknown key is an error with a suggestion; relative paths are resolved against the file's folder. A folder
 * or a device is `IO_ERROR`, a missing file `FILE_NOT_FOUND`, one over {@link MAX_EXPERIMENT_BYTES} bytes
 * `INVALID_EXPERIMENT`, all before it is parsed (a pipe is read up to the bound).
 */
export async function readExperiment(file: string): Promise<TrainInputs> {
  const size = await checkReadableFile(file, "--experiment");
  if (size !== undefined && size > MAX_EXPERIMENT_BYTES) {
    throw invalid(
      file,
      `${size} bytes, larger than the ${MAX_EXPERIMENT_BYTES} bytes an experiment file may have`,
    );
  }
  // Bounded even where the size is not known up front (a pipe) or changes while it is read.
  const bytes = await readAtMost(file, "--experiment", MAX_EXPERIMENT_BYTES);
  if (bytes.length > MAX_EXPERIMENT_BYTES) {
    throw invalid(file, `larger than the ${MAX_EXPERIMENT_BYTES} bytes an experiment file may have`);
  }
  return parseExperiment(new TextDecoder().decode(bytes), file);
}

/**
 * Validates the text of an experiment file (see {@link readExperiment}); `file` decides the format (`.json` is
 * JSON, anything else YAML), resolves relative paths and names the file in messages. Returns the settings, or
 * throws `INVALID_EXPERIMENT` naming the file and the key — never another error, for any text.
 */
export function parseExperiment(source: string, file: string): TrainInputs {
  let parsed: unknown;
  try {
    parsed = extname(file).toLowerCase() === ".json" ? JSON.parse(source) : parseYaml(source);
  } catch (error) {
    // A parser that recursed past the stack (a value nested thousands deep) says so as a RangeError, or (yaml)
    // as a parse error quoting one.
    const why =
      error instanceof RangeError || /Maximum call stack size exceeded/.test((error as Error).message)
        ? `nested deeper than the parser can follow; settings nest at most ${MAX_JSON_DEPTH} levels`
        : (error as Error).message.split("\n")[0];
    throw invalid(file, `not valid ${extname(file).toLowerCase() === ".json" ? "JSON" : "YAML"} (${why})`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw invalid(file, "an experiment file holds one object of settings (backbone, dataset, method, …)");
  }
  checkSafeKeys(parsed, file);
  const out: Record<string, unknown> = {};
  for (const [rawKey, value] of Object.entries(parsed as Record<string, unknown>)) {
    const key = rawKey.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    // Own keys only: `toString` or `constructor` must not find Object.prototype's members.
    const check = Object.hasOwn(KEYS, key) ? (KEYS as Record<string, Check>)[key] : undefined;
    if (check === undefined) {
      throw invalid(
        file,
        `unknown key ${shown(rawKey)}${rawKey.length > MAX_SUGGESTED_KEY ? "" : didYouMean(rawKey, EXPERIMENT_KEYS)}; known keys: ${EXPERIMENT_KEYS.join(", ")}`,
        rawKey,
      );
    }
    try {
      out[key] = check(value);
    } catch (error) {
      if (!(error instanceof InvalidArgumentError)) throw error;
      throw invalid(file, `${rawKey}: ${error.message.replace(/\.$/, "")}, got ${shown(value)}`, rawKey);
    }
  }
  for (const key of PATH_KEYS) {
    if (typeof out[key] === "string") out[key] = resolve(dirname(file), out[key] as string);
  }
  if (out["adapter"] !== undefined && (out["spec"] !== undefined || out["method"] !== undefined)) {
    throw invalid(
      file,
      "give the adapter as an inline `adapter` object, a `spec` file or `method` keys, not several",
      "adapter",
    );
  }
  return out as TrainInputs;
}

/** The experiment's settings with every flag given on the command line put over them. */
export function mergeInputs(experiment: TrainInputs, flags: TrainInputs): TrainInputs {
  const merged: Record<string, unknown> = { ...experiment };
  for (const [key, value] of Object.entries(flags)) if (value !== undefined) merged[key] = value;
  // A method or spec on the command line replaces the file's adapter entirely.
  if (flags.method !== undefined || flags.spec !== undefined) {
    delete merged["adapter"];
    if (flags.method !== undefined) delete merged["spec"];
    if (flags.spec !== undefined) delete merged["method"];
  }
  return merged as TrainInputs;
}
