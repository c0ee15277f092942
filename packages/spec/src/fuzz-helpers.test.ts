// The shared fuzz helpers (scripts/fuzz) do what the suites rely on: each mutation edits exactly as described,
// JSON edits serialise prototype keys as own keys, and the property tells typed errors from everything else.
import { describe, expect, it } from "vitest";
import {
  applyJsonMutation,
  applyMutation,
  deepJson,
  expectTypedOrSuccess,
  type Json,
  leBytes,
} from "../../../scripts/fuzz";
import { KoraError } from "./errors";

const bytes = Uint8Array.from([1, 2, 3, 4, 5]);
const list = (b: Uint8Array) => Array.from(b);

describe("byte mutations", () => {
  it("edit exactly as described, with positions taken modulo the length + 1", () => {
    expect(list(applyMutation(bytes, { kind: "flip", at: 1, bit: 0 }, []))).toEqual([1, 3, 3, 4, 5]);
    expect(list(applyMutation(bytes, { kind: "set", at: 5, value: 9 }, []))).toEqual([1, 2, 3, 4, 5]);
    expect(list(applyMutation(bytes, { kind: "set", at: 6, value: 9 }, []))).toEqual([9, 2, 3, 4, 5]);
    expect(list(applyMutation(bytes, { kind: "truncate", at: 2 }, []))).toEqual([1, 2]);
    expect(list(applyMutation(bytes, { kind: "insert", at: 5, bytes: [7, 8] }, []))).toEqual([
      1, 2, 3, 4, 5, 7, 8,
    ]);
    expect(list(applyMutation(bytes, { kind: "delete", at: 1, count: 2 }, []))).toEqual([1, 4, 5]);
    const donor = Uint8Array.from([10, 11, 12]);
    expect(
      list(applyMutation(bytes, { kind: "splice", at: 3, donor: 0, from: 1, count: 5 }, [donor])),
    ).toEqual([1, 2, 3, 11, 12]);
    expect(list(applyMutation(bytes, { kind: "repeat", at: 1, count: 2, times: 3 }, []))).toEqual([
      1, 2, 3, 2, 3, 2, 3, 4, 5,
    ]);
    expect(list(applyMutation(bytes, { kind: "length-field", at: 0, width: 2, value: 0x1ffn }, []))).toEqual([
      0xff, 1, 3, 4, 5,
    ]);
    expect(list(bytes)).toEqual([1, 2, 3, 4, 5]); // never in place
  });

  it("replace the n-th number and the n-th quoted string of a text header", () => {
    const text = new TextEncoder().encode('{"a":[12,3],"b":"x"}');
    const decode = (b: Uint8Array) => new TextDecoder().decode(b);
    expect(decode(applyMutation(text, { kind: "number", nth: 1, literal: "1e7" }, []))).toBe(
      '{"a":[12,1e7],"b":"x"}',
    );
    expect(decode(applyMutation(text, { kind: "string", nth: 2, literal: "__proto__" }, []))).toBe(
      '{"a":[12,3],"b":"__proto__"}',
    );
  });

  it("leBytes and deepJson build what they say", () => {
    expect(list(leBytes(0x0102n, 3))).toEqual([2, 1, 0]);
    expect(JSON.parse(deepJson(3))).toEqual([[[]]]);
    expect(JSON.parse(deepJson(2, "{"))).toEqual({ k: { k: 0 } });
  });
});

describe("JSON mutations", () => {
  const doc: Json = { backbone: { depth: 12, dim: 8 }, name: "a" };

  it("replace the n-th number, add prototype keys as own keys, nest, delete; the input is untouched", () => {
    expect(applyJsonMutation(doc, { kind: "number", at: 0, value: 2 ** 32 })).toEqual({
      backbone: { depth: 2 ** 32, dim: 8 },
      name: "a",
    });
    const added = JSON.stringify(
      applyJsonMutation(doc, { kind: "add-key", at: 1, key: "__proto__", value: 1 }),
    );
    expect(added).toBe('{"backbone":{"depth":12,"dim":8,"__proto__":1},"name":"a"}');
    expect(JSON.stringify(applyJsonMutation(doc, { kind: "nest", at: 2, depth: 2 }))).toBe(
      '{"backbone":{"depth":12,"dim":8},"name":[[]]}',
    );
    expect(applyJsonMutation(doc, { kind: "delete", at: 2 })).toEqual({ backbone: { depth: 12, dim: 8 } });
    expect(doc).toEqual({ backbone: { depth: 12, dim: 8 }, name: "a" });
  });
});

describe("expectTypedOrSuccess", () => {
  const options = { codes: ["INVALID_NPY"], maxMs: 1_000 };
  it("passes success and declared codes, and fails untyped errors, undeclared codes and slow inputs", () => {
    expect(expectTypedOrSuccess(() => 1, options)).toBe("ok");
    const typed = () => {
      throw new KoraError({ code: "INVALID_NPY", message: "x" });
    };
    expect(expectTypedOrSuccess(typed, options)).toBe("INVALID_NPY");
    expect(() =>
      expectTypedOrSuccess(() => {
        throw new RangeError("Invalid array length");
      }, options),
    ).toThrow("untyped RangeError");
    expect(() => expectTypedOrSuccess(typed, { ...options, codes: ["IO_ERROR"] })).toThrow("undeclared code");
    expect(() =>
      expectTypedOrSuccess(
        () => {
          const end = performance.now() + 30;
          while (performance.now() < end) {}
        },
        { ...options, maxMs: 5 },
      ),
    ).toThrow(/took \d+ ms > 5 ms/);
  });
});
