/**
 * The deepest nesting of arrays and objects the JSON readers of `@kora/spec` accept (safetensors headers,
 * `adapter.json`, peft's `adapter_config.json`). Their real depth is 3 to 4; the limit keeps recursive code that
 * later walks the parsed value (validation, `JSON.stringify` in messages) far from the call-stack limit.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Keys that reach `Object.prototype` machinery when a parsed object is copied into a plain object (`__proto__`
 * sets the prototype; `constructor` and `prototype` shadow what code expects). Readers reject them as keys and
 * as tensor names.
 */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

/** A problem {@link scanJsonText} found before parsing. */
export type JsonTextProblem =
  | { kind: "depth"; depth: number; offset: number }
  | { kind: "forbidden-key"; key: string; path: string };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

interface Frame {
  /** The dotted path of this container, for messages. */
  path: string;
  /** `null` for an object, else the current element index of an array. */
  index: number | null;
}

function childPath(frame: Frame | undefined, key: string): string {
  if (frame === undefined) return key;
  return frame.path === "" ? key : `${frame.path}.${key}`;
}

/** Options of {@link scanJsonText} and {@link scanJsonValue}. */
export interface JsonScanOptions {
  /** Deepest nesting allowed. Default {@link MAX_JSON_DEPTH}. */
  maxDepth?: number;
  /** Report keys in {@link FORBIDDEN_KEYS}. Default true. */
  forbidKeys?: boolean;
}

/**
 * @internal Scans JSON text once, iteratively and in linear time, before it is parsed: reports nesting deeper
 * than `maxDepth` and the first key in {@link FORBIDDEN_KEYS} (with its dotted path). The text need not be valid
 * JSON (`JSON.parse` judges that afterwards); unterminated strings end the scan.
 */
export function scanJsonText(text: string, options: JsonScanOptions = {}): JsonTextProblem | undefined {
  const maxDepth = options.maxDepth ?? MAX_JSON_DEPTH;
  const forbidKeys = options.forbidKeys ?? true;
  const stack: Frame[] = [];
  // The key most recently read in the innermost object: the path of the value that follows it.
  let pendingKey: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      let end = i + 1;
      while (end < text.length && text.charCodeAt(end) !== QUOTE) {
        end += text.charCodeAt(end) === BACKSLASH ? 2 : 1;
      }
      if (end >= text.length) return undefined;
      let next = end + 1;
      while (next < text.length && isSpace(text.charCodeAt(next))) next++;
      if (text.charCodeAt(next) === COLON) {
        let key: string;
        try {
          key = JSON.parse(text.slice(i, end + 1)) as string;
        } catch {
          return undefined; // an invalid escape: JSON.parse rejects the whole text with a better message
        }
        const frame = stack[stack.length - 1];
        if (forbidKeys && FORBIDDEN_KEYS.has(key))
          return { kind: "forbidden-key", key, path: childPath(frame, key) };
        pendingKey = key;
      }
      i = end;
    } else if (code === 0x7b || code === 0x5b) {
      const outer = stack[stack.length - 1];
      const path =
        outer === undefined
          ? ""
          : outer.index === null
            ? childPath(outer, pendingKey ?? "")
            : `${outer.path}[${outer.index}]`;
      if (stack.length + 1 > maxDepth) return { kind: "depth", depth: stack.length + 1, offset: i };
      stack.push({ path, index: code === 0x5b ? 0 : null });
      pendingKey = undefined;
    } else if (code === 0x7d || code === 0x5d) {
      stack.pop();
    } else if (code === COMMA) {
      const frame = stack[stack.length - 1];
      if (frame !== undefined && frame.index !== null) frame.index++;
    }
  }
  return undefined;
}

/**
 * @internal The same checks as {@link scanJsonText} on a value that is already in memory (e.g. a manifest passed
 * as an object): iterative, each object visited once (shared and cyclic references included), so it is linear in
 * the value's size. `offset` of a depth problem is -1.
 */
export function scanJsonValue(value: unknown, options: JsonScanOptions = {}): JsonTextProblem | undefined {
  const maxDepth = options.maxDepth ?? MAX_JSON_DEPTH;
  const forbidKeys = options.forbidKeys ?? true;
  const seen = new WeakSet<object>();
  const stack: { value: unknown; depth: number; path: string }[] = [{ value, depth: 1, path: "" }];
  while (stack.length > 0) {
    const { value: item, depth, path } = stack.pop()!;
    if (typeof item !== "object" || item === null || seen.has(item)) continue;
    seen.add(item);
    if (depth > maxDepth) return { kind: "depth", depth, offset: -1 };
    if (Array.isArray(item)) {
      for (let i = 0; i < item.length; i++) {
        stack.push({ value: item[i], depth: depth + 1, path: `${path}[${i}]` });
      }
      continue;
    }
    for (const key of Object.keys(item)) {
      const keyPath = path === "" ? key : `${path}.${key}`;
      if (forbidKeys && FORBIDDEN_KEYS.has(key)) return { kind: "forbidden-key", key, path: keyPath };
      stack.push({ value: (item as Record<string, unknown>)[key], depth: depth + 1, path: keyPath });
    }
  }
  return undefined;
}
