import {
  ADAPTER_METHODS,
  type AdapterSpec,
  didYouMean,
  isAdapterMethod,
  KoraError,
  parseAdapterSpec,
} from "@kora/spec";

function childAt(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/**
 * A typo suggestion for an `INVALID_SPEC` error: for an unknown field, the closest field the method's spec has at
 * that level (read from the defaults `parseAdapterSpec` fills in); for an unknown method, the closest method.
 * TODO(@kora/spec): parseAdapterSpec could put this suggestion in its own message.
 */
function suggestionFor(input: unknown, error: KoraError): string {
  if (error.path === undefined || input === null || typeof input !== "object") return "";
  const method = (input as { method?: unknown }).method;
  if (error.path === "method") return typeof method === "string" ? didYouMean(method, ADAPTER_METHODS) : "";
  if (!isAdapterMethod(method)) return "";
  const path = error.path.split(".");
  const key = path.pop()!;
  const defaults = childAt(parseAdapterSpec({ method }), path);
  const given = childAt(input, path);
  if (defaults === null || typeof defaults !== "object" || given === null || typeof given !== "object")
    return "";
  const known = Object.keys(defaults);
  if (known.includes(key) || !(key in given)) return "";
  return didYouMean(key, known);
}

/**
 * `parseAdapterSpec` with a typo suggestion added to unknown-field and unknown-method errors, and the source
 * (a file) named in the message.
 */
export function parseAdapterSpecWithHints(input: unknown, source: string | undefined): AdapterSpec {
  try {
    return parseAdapterSpec(input);
  } catch (error) {
    if (!KoraError.isInstance(error) || error.code !== "INVALID_SPEC") throw error;
    throw new KoraError({
      code: error.code,
      message: `${source === undefined ? "" : `${source}: `}${error.message}${suggestionFor(input, error)}`,
      ...(error.path === undefined ? {} : { path: error.path }),
      cause: error,
    });
  }
}
