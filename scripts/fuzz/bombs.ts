// Hand-made hostile inputs that mutations rarely reach: deep nesting (stack overflows in recursive code) and
// small files that declare huge sizes (allocation before validation).

/** `depth` nested JSON arrays (`open` "[") or objects (`open` "{", each under the key "k"), around `inner`. */
export function deepJson(depth: number, open: "[" | "{" = "[", inner = ""): string {
  if (open === "[") return "[".repeat(depth) + inner + "]".repeat(depth);
  return '{"k":'.repeat(depth) + (inner === "" ? "0" : inner) + "}".repeat(depth);
}

/** Little-endian unsigned integer of `width` bytes, for length prefixes. */
export function leBytes(value: bigint, width: number): Uint8Array {
  const out = new Uint8Array(width);
  let rest = value;
  for (let i = 0; i < width; i++) {
    out[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
}
