import type { core } from "zod/mini";
import { KoraError } from "../errors";
import type { SpecErrorCode } from "../errors/kora-error";
import type { SpecOf } from "../methods/method-definition";
import { ADAPTER_METHODS, isAdapterMethod, methodDefinition } from "../methods/registry";
import type { AdapterMethod, AdapterSpec } from "./types";
import { englishMessages } from "./zod-messages";

const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/**
 * How deep a spec may nest. The deepest real field is two levels down (`gate.init`, `layers[0]`); the bound only
 * has to be far below what could exhaust the stack of anything that later walks the value recursively.
 */
export const MAX_SPEC_DEPTH = 32;

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  try {
    const text = JSON.stringify(value);
    return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
  } catch {
    // BigInts, cycles and nesting too deep for JSON.stringify (String() of the latter is "[object Object]").
    if (typeof value === "bigint") return `${value}n`;
    return Array.isArray(value) ? "an array" : typeof value === "object" ? "an object" : typeof value;
  }
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function specError(message: string, path: readonly PropertyKey[]): KoraError<SpecErrorCode> {
  return new KoraError<SpecErrorCode>({ code: "INVALID_SPEC", message, path: formatPath(path) });
}

/**
 * Walks the whole input once, without recursion (an explicit stack, so a hostile 100 000-deep value cannot
 * overflow the call stack) and visiting each object once (so shared sub-objects cannot make the walk
 * exponential), before any schema sees it. Rejects keys that could reach a prototype, nesting deeper than
 * {@link MAX_SPEC_DEPTH}, and sparse arrays (the schemas iterate `length`, which a hole-y array can make
 * arbitrarily larger than the input).
 */
function rejectHostileShapes(input: object): void {
  const seen = new Set<object>();
  const stack: { value: unknown; path: PropertyKey[] }[] = [{ value: input, path: [] }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value, path } = item;
    const key = path[path.length - 1];
    if (typeof key === "string" && FORBIDDEN_KEYS.has(key)) {
      throw specError(`adapter spec: key "${key}" is not allowed (at ${formatPath(path)})`, path);
    }
    if (value === null || typeof value !== "object" || seen.has(value)) continue;
    seen.add(value);
    if (path.length >= MAX_SPEC_DEPTH) {
      throw specError(
        `adapter spec: nested deeper than ${MAX_SPEC_DEPTH} levels (at ${formatPath(path)})`,
        path,
      );
    }
    const isArray = Array.isArray(value);
    const keys = Object.keys(value);
    if (isArray && keys.length !== value.length) {
      throw specError(
        `adapter spec: sparse array${path.length === 0 ? "" : ` at ${formatPath(path)}`}`,
        path,
      );
    }
    // Pushed in reverse, so that keys are checked depth-first in document order and the first offending key of
    // the document is the one reported.
    for (let i = keys.length - 1; i >= 0; i--) {
      const child = keys[i] as string;
      stack.push({
        value: (value as Record<string, unknown>)[child],
        path: [...path, isArray ? Number(child) : child],
      });
    }
  }
}

function toKoraError(error: core.$ZodError, input: unknown): KoraError {
  const issue = error.issues[0];
  if (issue === undefined)
    return new KoraError<SpecErrorCode>({ code: "INVALID_SPEC", message: "adapter spec is invalid" });
  if (issue.code === "unrecognized_keys") {
    const path = formatPath([...issue.path, issue.keys[0] ?? ""]);
    return new KoraError<SpecErrorCode>({
      code: "INVALID_SPEC",
      message: `adapter spec: unknown field ${path}`,
      path,
      cause: error,
    });
  }
  const path = formatPath(issue.path);
  return new KoraError<SpecErrorCode>({
    code: "INVALID_SPEC",
    message: `adapter spec field ${path}: ${issue.message}, got ${describe(valueAt(input, issue.path))}`,
    path,
    cause: error,
  });
}

/**
 * Validates an adapter spec of unknown shape (e.g. parsed JSON) with its method's schema from
 * `ADAPTER_METHOD_REGISTRY`, fills in the defaults and returns a fully specified {@link AdapterSpec}.
 *
 * @throws KoraError with code `INVALID_SPEC` and `path` naming the offending field: an unknown `method`, an
 * unknown field, a non-integer or non-positive rank, a dropout outside [0, 1), a `__proto__`, `constructor` or
 * `prototype` key at any depth, nesting deeper than {@link MAX_SPEC_DEPTH} levels. Time is linear in the size of
 * the input, however it is nested.
 *
 * @example
 * ```ts
 * const spec = parseAdapterSpec({ method: "kora", composition: { hidden: 8 } });
 * spec.rank; // 8 (default)
 * ```
 */
export function parseAdapterSpec(input: unknown): AdapterSpec {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw new KoraError<SpecErrorCode>({
      code: "INVALID_SPEC",
      message: `adapter spec must be an object with a "method" field, got ${describe(input)}`,
    });
  }
  rejectHostileShapes(input);
  const method = (input as { method?: unknown }).method;
  if (!isAdapterMethod(method)) {
    throw new KoraError<SpecErrorCode>({
      code: "INVALID_SPEC",
      message: `adapter spec field method: expected one of ${ADAPTER_METHODS.map((m) => `"${m}"`).join(", ")}, got ${describe(method)}`,
      path: "method",
    });
  }
  const result = methodDefinition(method).schema.safeParse(input, { error: englishMessages() });
  if (!result.success) throw toKoraError(result.error, input);
  return result.data;
}

/** The complete spec of `method` with every default, e.g. `defaultAdapterSpec("lora").rank === 8`. */
export function defaultAdapterSpec<M extends AdapterMethod>(method: M): SpecOf<M> {
  return parseAdapterSpec({ method }) as SpecOf<M>;
}
