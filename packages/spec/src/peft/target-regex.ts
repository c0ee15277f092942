/** The longest `target_modules` regex read from a peft config. peft's own and hand-written ones are under 300. */
export const MAX_TARGET_REGEX_LENGTH = 1024;

/** The most repeating quantifiers (`*`, `+`, `{n,}`, `{n,m}` with m > 1) a `target_modules` regex may hold. */
export const MAX_TARGET_REGEX_REPEATS = 4;

/**
 * @internal Why `source` is not a `target_modules` regex this reader runs, or `undefined` when it is.
 *
 * JavaScript regexes backtrack: `(.*.*.*)*x` or `(a|a)*b` take exponential time on a 50-character module name,
 * and the config comes from a file. The accepted subset keeps matching polynomial and small: repetition applies
 * only to single atoms (a character, an escape, a class, `.`), never to a group; at most
 * {@link MAX_TARGET_REGEX_REPEATS} repeating quantifiers; no backreferences. Every regex peft writes and the usual
 * hand-written ones (`.*\.encoder\.layer\.\d+\.(?:query|value)`, `^(?!.*vision).*\.(q|v)_proj$`) fit.
 */
export function unsafeTargetRegex(source: string): string | undefined {
  if (source.length > MAX_TARGET_REGEX_LENGTH) {
    return `${source.length} characters, longer than ${MAX_TARGET_REGEX_LENGTH}`;
  }
  let repeats = 0;
  let previous: "none" | "atom" | "group" = "none";
  for (let i = 0; i < source.length; i++) {
    const char = source[i]!;
    if (char === "\\") {
      if (/[1-9k]/.test(source[i + 1] ?? "")) return "backreferences are not supported";
      i++;
      previous = "atom";
    } else if (char === "[") {
      i++;
      if (source[i] === "^") i++;
      if (source[i] === "]") i++;
      while (i < source.length && source[i] !== "]") i += source[i] === "\\" ? 2 : 1;
      previous = "atom";
    } else if (char === "(") {
      previous = "none";
    } else if (char === ")") {
      previous = "group";
    } else if (char === "|") {
      previous = "none";
    } else if (char === "*" || char === "+" || char === "?" || char === "{") {
      let repeating = char !== "?";
      if (char === "{") {
        const bound = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i));
        if (bound === null) {
          previous = "atom"; // a literal brace
          continue;
        }
        const max = bound[2] === undefined ? Number(bound[1]) : bound[3] === "" ? Infinity : Number(bound[3]);
        repeating = max > 1;
        i += bound[0].length - 1;
      }
      if (source[i + 1] === "?") i++; // lazy
      if (repeating) {
        if (previous === "group") return "a repeated group (repeat single characters or classes only)";
        repeats++;
        if (repeats > MAX_TARGET_REGEX_REPEATS) {
          return `more than ${MAX_TARGET_REGEX_REPEATS} repeating quantifiers`;
        }
      }
      previous = "none";
    } else {
      previous = "atom";
    }
  }
  return undefined;
}
