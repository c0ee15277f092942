import type { z } from "zod";
import { KoraError } from "../errors";
import type { SpecErrorCode } from "../errors/kora-error";
import type { SpecOf } from "../methods/method-definition";
import { ADAPTER_METHODS, isAdapterMethod, methodDefinition } from "../methods/registry";
import type { AdapterMethod, AdapterSpec } from "./types";

const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

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
    return String(value);
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

function rejectForbiddenKeys(value: unknown, path: PropertyKey[]): void {
  if (value === null || typeof value !== "object") return;
  for (const key of Object.keys(value)) {
    const childPath = [...path, Array.isArray(value) ? Number(key) : key];
    if (FORBIDDEN_KEYS.has(key)) {
      throw new KoraError<SpecErrorCode>({
        code: "INVALID_SPEC",
        message: `adapter spec: key "${key}" is not allowed (at ${formatPath(childPath)})`,
        path: formatPath(childPath),
      });
    }
    rejectForbiddenKeys((value as Record<string, unknown>)[key], childPath);
  }
}

function toKoraError(error: z.ZodError, input: unknown): KoraError {
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
 * unknown field, a non-integer or non-positive rank, a dropout outside [0, 1), a `__proto__`/`constructor` key.
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
  rejectForbiddenKeys(input, []);
  const method = (input as { method?: unknown }).method;
  if (!isAdapterMethod(method)) {
    throw new KoraError<SpecErrorCode>({
      code: "INVALID_SPEC",
      message: `adapter spec field method: expected one of ${ADAPTER_METHODS.map((m) => `"${m}"`).join(", ")}, got ${describe(method)}`,
      path: "method",
    });
  }
  const result = methodDefinition(method).schema.safeParse(input);
  if (!result.success) throw toKoraError(result.error, input);
  return result.data;
}

/** The complete spec of `method` with every default, e.g. `defaultAdapterSpec("lora").rank === 8`. */
export function defaultAdapterSpec<M extends AdapterMethod>(method: M): SpecOf<M> {
  return parseAdapterSpec({ method }) as SpecOf<M>;
}
