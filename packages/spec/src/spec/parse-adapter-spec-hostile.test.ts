import { describe, expect, it } from "vitest";
import { KoraError } from "../errors";
import { MAX_SPEC_DEPTH, parseAdapterSpec } from "./parse-adapter-spec";

// Specs arrive as JSON from files and over the network: parsing must reject, with INVALID_SPEC, whatever could
// pollute a prototype, overflow the stack or take more than linear time, however the input is shaped.

function errorOf(input: unknown): KoraError {
  try {
    parseAdapterSpec(input);
  } catch (error) {
    if (KoraError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected parseAdapterSpec to throw");
}

/** `{ next: { next: ... } }`, `depth` objects deep, built without recursion. */
function deepObject(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let i = 0; i < depth; i++) value = { next: value };
  return value;
}

describe("parseAdapterSpec on hostile input", () => {
  it("rejects a 100 000-deep object with INVALID_SPEC, not a RangeError", () => {
    const error = errorOf({ method: "lora", extra: deepObject(100_000) });
    expect(error.code).toBe("INVALID_SPEC");
    expect(error.message).toContain(`nested deeper than ${MAX_SPEC_DEPTH} levels`);
    expect(error.path).toBe(`extra${".next".repeat(MAX_SPEC_DEPTH - 1)}`);
  });

  it("rejects deep nesting under a known field and deep arrays the same way", () => {
    expect(errorOf({ method: "kora", gate: deepObject(100_000) }).code).toBe("INVALID_SPEC");
    let array: unknown[] = [];
    for (let i = 0; i < 100_000; i++) array = [array];
    const error = errorOf({ method: "lora", layers: array });
    expect(error.code).toBe("INVALID_SPEC");
    expect(error.path).toBe(`layers${"[0]".repeat(MAX_SPEC_DEPTH - 1)}`);
  });

  it("rejects a 100 000-deep JSON document parsed by JSON.parse", () => {
    const json = `{"method":"lora","x":${"[".repeat(100_000)}${"]".repeat(100_000)}}`;
    expect(errorOf(JSON.parse(json)).code).toBe("INVALID_SPEC");
  });

  it("accepts the nesting real specs use", () => {
    expect(
      parseAdapterSpec({
        method: "kora",
        layers: [0, 3],
        gate: { per: "channel" },
        composition: { hidden: 2 },
      }),
    ).toMatchObject({ layers: [0, 3], gate: { per: "channel" }, composition: { hidden: 2 } });
  });

  it.each([
    ['{"method":"lora","prototype":1}', "prototype"],
    ['{"method":"kora","gate":{"prototype":{}}}', "gate.prototype"],
    ['{"method":"lora","targets":["query",{"__proto__":{}}]}', "targets[1].__proto__"],
    ['{"method":"adapter-fusion","fusion":{"variant":"static","constructor":1}}', "fusion.constructor"],
  ])("rejects the forbidden key in %s at %s", (json, path) => {
    const error = errorOf(JSON.parse(json));
    expect(error.code).toBe("INVALID_SPEC");
    expect(error.path).toBe(path);
    expect(error.message).toContain("is not allowed");
  });

  it("reports the first forbidden key in document order", () => {
    const error = errorOf(JSON.parse('{"method":"lora","a":{"constructor":1},"prototype":2}'));
    expect(error.path).toBe("a.constructor");
  });

  it("visits a shared sub-object once: 64 levels of two references to the same child parse at once", () => {
    // Without the visited set, the walk would visit 2^64 paths and never return.
    let shared: Record<string, unknown> = { method: "x" };
    for (let i = 0; i < 64; i++) shared = { a: shared, b: shared };
    const error = errorOf({ method: "lora", shared });
    expect(error.code).toBe("INVALID_SPEC");
    expect(error.message).toContain("nested deeper than");
  });

  it("rejects sparse arrays, whose length can be far larger than their content", () => {
    const error = errorOf({ method: "lora", layers: new Array(1_000_000_000) });
    expect(error.code).toBe("INVALID_SPEC");
    expect(error.path).toBe("layers");
    expect(error.message).toContain("sparse array at layers");
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point of the test
    expect(errorOf({ method: "lora", layers: [0, , 2] }).path).toBe("layers");
  });

  it("handles a cycle without looping: the cyclic field is simply an unknown field", () => {
    const input: Record<string, unknown> = { method: "lora" };
    input["self"] = input;
    expect(errorOf(input).message).toBe("adapter spec: unknown field self");
  });

  it("reports a wide object's unknown fields without trouble (200 000 keys)", () => {
    const input: Record<string, unknown> = { method: "lora" };
    for (let i = 0; i < 200_000; i++) input[`k${i}`] = i;
    const error = errorOf(input);
    expect(error.code).toBe("INVALID_SPEC");
    expect(error.path).toBe("k0");
  });

  it("names the value it could not print instead of failing on it", () => {
    const error = errorOf({ method: "lora", rank: 10n });
    expect(error.code).toBe("INVALID_SPEC");
    expect(error.message).toMatch(/^adapter spec field rank: .*got 10n$/);
    const cyclic: Record<string, unknown> = {};
    cyclic["self"] = cyclic;
    expect(errorOf({ method: "lora", targets: cyclic }).message).toMatch(
      /^adapter spec field targets: .*got an object$/,
    );
  });
});
