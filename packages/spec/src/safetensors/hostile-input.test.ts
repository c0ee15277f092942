// Regressions from the issue-17 fuzz campaign against readSafetensors: each input once escaped as an untyped
// exception or took unbounded time and memory.
import { describe, expect, it } from "vitest";
import { deepJson, leBytes } from "../../../../scripts/fuzz";
import { KoraError } from "../errors";
import { MAX_JSON_DEPTH } from "../json";
import { DEFAULT_MAX_SAFETENSORS_HEADER_BYTES, MAX_SAFETENSORS_HEADER_BYTES, readSafetensors } from "./read";

function file(header: string, data = new Uint8Array(0)): Uint8Array {
  const text = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + text.length + data.length);
  out.set(leBytes(BigInt(text.length), 8));
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

function errorOf(fn: () => unknown): KoraError {
  try {
    fn();
  } catch (error) {
    if (KoraError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected a KoraError");
}

describe("readSafetensors on hostile input (issue 17)", () => {
  it("a tensor entry nested 100 000 arrays deep is INVALID_SAFETENSORS, not a stack overflow", () => {
    const error = errorOf(() => readSafetensors(file(`{"a":${deepJson(100_000)}}`)));
    expect(error.code).toBe("INVALID_SAFETENSORS");
    expect(error.message).toContain(`nested deeper than ${MAX_JSON_DEPTH}`);
  });

  it("__metadata__ nested 100 000 arrays deep is INVALID_SAFETENSORS", () => {
    const error = errorOf(() => readSafetensors(file(`{"__metadata__":${deepJson(100_000)}}`)));
    expect(error.code).toBe("INVALID_SAFETENSORS");
  });

  it("a header past the default limit is rejected before decoding, and accepted when the caller raises it", () => {
    // A valid header padded with spaces to just over the default limit.
    const entry = '{"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}';
    const padded = entry + " ".repeat(DEFAULT_MAX_SAFETENSORS_HEADER_BYTES - entry.length) + "}";
    const bytes = file(padded, new Uint8Array([9]));
    const error = errorOf(() => readSafetensors(bytes));
    expect(error.code).toBe("INVALID_SAFETENSORS");
    expect(error.message).toContain("maxHeaderBytes");
    const read = readSafetensors(bytes, { maxHeaderBytes: DEFAULT_MAX_SAFETENSORS_HEADER_BYTES + 1 });
    expect(read.tensors["t"]!.data).toEqual(new Uint8Array([9]));
  });

  it("maxHeaderBytes above the format's own 100 MB ceiling is INVALID_ARGUMENT", () => {
    const error = errorOf(() =>
      readSafetensors(file("{}"), { maxHeaderBytes: MAX_SAFETENSORS_HEADER_BYTES + 1 }),
    );
    expect(error.code).toBe("INVALID_ARGUMENT");
  });
});
