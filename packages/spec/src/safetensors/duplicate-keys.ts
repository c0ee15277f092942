const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** A key that occurs twice in one JSON object, and the key of the object holding it (`undefined` at top level). */
export interface DuplicateKey {
  /** The repeated key, decoded. */
  key: string;
  /** The key under which the object holding the duplicate sits in its parent; `undefined` for the top level. */
  parent: string | undefined;
}

interface Frame {
  /** Keys seen so far in this object; `null` for an array. */
  keys: Set<string> | null;
  /** The key this container was the value of. */
  parent: string | undefined;
}

/**
 * @internal Finds the first key repeated within one object of `json`, which must already be known to be valid
 * JSON (`JSON.parse` keeps the last of repeated keys silently). Iterative, so deep nesting cannot overflow the stack.
 */
export function findDuplicateKey(json: string): DuplicateKey | undefined {
  const stack: Frame[] = [];
  let expectKey = false;
  let lastKey: string | undefined;
  for (let i = 0; i < json.length; i++) {
    const code = json.charCodeAt(i);
    if (code === QUOTE) {
      let end = i + 1;
      while (json.charCodeAt(end) !== QUOTE) end += json.charCodeAt(end) === BACKSLASH ? 2 : 1;
      if (expectKey) {
        const frame = stack[stack.length - 1]!;
        const key = JSON.parse(json.slice(i, end + 1)) as string;
        if (frame.keys!.has(key)) return { key, parent: frame.parent };
        frame.keys!.add(key);
        lastKey = key;
        expectKey = false;
      }
      i = end;
    } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      const outer = stack[stack.length - 1];
      // An object's parent is the key it is the value of; inside an array, the array's own parent.
      const parent = outer === undefined ? undefined : outer.keys !== null ? lastKey : outer.parent;
      stack.push({ keys: code === OPEN_BRACE ? new Set() : null, parent });
      expectKey = code === OPEN_BRACE;
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      stack.pop();
      expectKey = false;
    } else if (code === COMMA) {
      expectKey = stack[stack.length - 1]?.keys != null;
    }
  }
  return undefined;
}
