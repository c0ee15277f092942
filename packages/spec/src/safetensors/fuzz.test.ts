import { describe, expect, it } from "vitest";
import { KoraError } from "../errors";
import { readSafetensors } from "./read";
import { writeSafetensors } from "./write";

/** Seeded xorshift32: the same mutations on every run. */
function random(seed: number): (below: number) => number {
  let state = seed >>> 0 || 1;
  return (below) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % below;
  };
}

const SEED_FILE = writeSafetensors(
  {
    a: { dtype: "U8", shape: [3], data: new Uint8Array([1, 2, 3]) },
    h: { dtype: "F16", shape: [2], data: new Uint16Array([0x3c00, 0x7e00]) },
    w: { dtype: "F32", shape: [2, 2], data: new Float32Array([1, -2, 3.5, 0]) },
    n: { dtype: "I64", shape: [1], data: new BigInt64Array([-5n]) },
    e: { dtype: "BOOL", shape: [0], data: new Uint8Array(0) },
  },
  { format: "pt" },
);
const HEADER_END = 8 + Number(new DataView(SEED_FILE.buffer).getBigUint64(0, true));
/** Phrases that identify each reader rule in a message. */
const RULES = [
  "shorter than",
  "-byte limit",
  "after the prefix",
  "UTF-8",
  "start with '{'",
  "not valid JSON",
  "duplicate",
  "__metadata__",
  "entry must be an object",
  "exactly the fields",
  "dtype",
  "shape must",
  "too many elements",
  "data_offsets must",
  "is after end",
  "span",
  "offset 0",
  "gap",
  "overlap",
  "trailing bytes",
  "beyond the",
];
const JSON_BYTES = new TextEncoder().encode('{}[],:"\\0123456789-e. ');

function mutate(source: Uint8Array, next: (below: number) => number): Uint8Array {
  let bytes = source.slice();
  const rounds = 1 + next(3);
  for (let round = 0; round < rounds; round++) {
    // Most positions inside the header, where the rules live; some anywhere.
    const at = next(4) === 0 ? next(bytes.length + 1) : next(Math.min(HEADER_END, bytes.length) + 1);
    switch (next(8)) {
      case 0: // flip one bit
        if (at < bytes.length) bytes[at]! ^= 1 << next(8);
        break;
      case 1: // replace with a JSON-significant byte
        if (at < bytes.length) bytes[at] = JSON_BYTES[next(JSON_BYTES.length)]!;
        break;
      case 2: // truncate
        bytes = bytes.slice(0, at);
        break;
      case 3: {
        // insert random bytes
        const inserted = Uint8Array.from({ length: 1 + next(4) }, () => next(256));
        const grown = new Uint8Array(bytes.length + inserted.length);
        grown.set(bytes.subarray(0, at));
        grown.set(inserted, at);
        grown.set(bytes.subarray(at), at + inserted.length);
        bytes = grown;
        break;
      }
      case 4: // delete a range
        bytes = Uint8Array.from([...bytes.subarray(0, at), ...bytes.subarray(at + 1 + next(6))]);
        break;
      case 5: // nudge the declared header length
        if (bytes.length >= 8) {
          const view = new DataView(bytes.buffer);
          view.setBigUint64(0, BigInt.asUintN(64, view.getBigUint64(0, true) + BigInt(next(17) - 8)), true);
        }
        break;
      case 6: {
        // change one digit of the header: keeps the JSON valid, breaks shapes and offsets
        const digits = [...bytes.subarray(8, Math.min(HEADER_END, bytes.length)).keys()].filter(
          (i) => bytes[8 + i]! >= 0x30 && bytes[8 + i]! <= 0x39,
        );
        if (digits.length > 0) bytes[8 + digits[next(digits.length)]!] = 0x30 + next(10);
        break;
      }
      default: // overwrite one byte of the length prefix with anything
        if (bytes.length >= 8) bytes[next(8)] = next(256);
    }
  }
  return bytes;
}

describe("readSafetensors on mutated bytes", () => {
  it("either decodes or throws KoraError INVALID_SAFETENSORS, quickly, for 4000 seeded mutations", () => {
    const next = random(20240611);
    const started = performance.now();
    let accepted = 0;
    const rulesHit = new Set<string>();
    for (let i = 0; i < 4000; i++) {
      const bytes = mutate(SEED_FILE, next);
      let decoded: ReturnType<typeof readSafetensors>;
      try {
        decoded = readSafetensors(bytes);
      } catch (error) {
        if (!KoraError.isInstance(error) || error.code !== "INVALID_SAFETENSORS") {
          expect.fail(`mutation ${i} threw ${String(error)} on bytes [${Array.from(bytes).join(",")}]`);
        }
        const rule = RULES.find((phrase) => error.message.includes(phrase));
        if (rule === undefined) expect.fail(`unexpected message: ${error.message}`);
        rulesHit.add(rule);
        continue;
      }
      accepted++;
      // Whatever is accepted re-encodes to a canonical file that is stable under read → write.
      const canonical = writeSafetensors(decoded.tensors, decoded.metadata);
      const again = readSafetensors(canonical);
      expect(writeSafetensors(again.tensors, again.metadata)).toEqual(canonical);
    }
    expect(performance.now() - started).toBeLessThan(10_000);
    // The mutations exercise both outcomes and many distinct rules.
    expect(accepted).toBeGreaterThan(20);
    expect(rulesHit.size).toBeGreaterThanOrEqual(12);
  });
});
