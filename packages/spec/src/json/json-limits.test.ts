import { describe, expect, it } from "vitest";
import { deepJson } from "../../../../scripts/fuzz";
import { MAX_JSON_DEPTH, scanJsonText, scanJsonValue } from "./json-limits";

describe("scanJsonText", () => {
  it("accepts nesting up to MAX_JSON_DEPTH and reports the first level beyond it", () => {
    expect(scanJsonText(deepJson(MAX_JSON_DEPTH))).toBeUndefined();
    expect(scanJsonText(deepJson(MAX_JSON_DEPTH + 1))).toEqual({
      kind: "depth",
      depth: MAX_JSON_DEPTH + 1,
      offset: MAX_JSON_DEPTH,
    });
  });

  it("scans a million levels without recursion", () => {
    expect(scanJsonText(deepJson(1_000_000, "{"))).toMatchObject({
      kind: "depth",
      depth: MAX_JSON_DEPTH + 1,
    });
  });

  it("names forbidden keys with their dotted path, escapes decoded", () => {
    expect(scanJsonText('{"spec":{"a":[1,{"__proto__":{}}]}}')).toEqual({
      kind: "forbidden-key",
      key: "__proto__",
      path: "spec.a[1].__proto__",
    });
    expect(scanJsonText('{"x": {"constr\\u0075ctor" : 1}}')).toMatchObject({ path: "x.constructor" });
    expect(scanJsonText('{"prototype":1}')).toMatchObject({ key: "prototype", path: "prototype" });
  });

  it("ignores forbidden words as values and brackets inside strings", () => {
    expect(scanJsonText('{"name":"__proto__","s":"[[[{{{","t":["constructor"]}')).toBeUndefined();
    expect(scanJsonText(`{"s":"${"[".repeat(1000)}"}`)).toBeUndefined();
  });

  it("ends quietly on text that is not JSON (unterminated strings, bad escapes)", () => {
    expect(scanJsonText('{"abc')).toBeUndefined();
    expect(scanJsonText('{"a\\')).toBeUndefined();
    expect(scanJsonText('{"\\x":1}')).toBeUndefined();
    expect(scanJsonText("]]]}}}")).toBeUndefined();
  });

  it("can leave forbidden keys alone (safetensors tensor names may be anything)", () => {
    expect(scanJsonText('{"__proto__":{}}', { forbidKeys: false })).toBeUndefined();
  });
});

describe("scanJsonValue", () => {
  it("finds the same problems in parsed values, and terminates on cycles and shared subtrees", () => {
    expect(scanJsonValue(JSON.parse('{"a":[{"constructor":1}]}'))).toEqual({
      kind: "forbidden-key",
      key: "constructor",
      path: "a[0].constructor",
    });
    expect(scanJsonValue(JSON.parse(deepJson(MAX_JSON_DEPTH)))).toBeUndefined();
    expect(scanJsonValue(JSON.parse(deepJson(MAX_JSON_DEPTH + 1)))).toMatchObject({ kind: "depth" });
    const cyclic: Record<string, unknown> = { ok: 1 };
    cyclic["self"] = cyclic;
    expect(scanJsonValue(cyclic)).toBeUndefined();
    // 64 levels of two references to one child: 2^64 paths, 64 objects.
    let shared: Record<string, unknown> = {};
    for (let i = 0; i < 60; i++) shared = { left: shared, right: shared };
    expect(scanJsonValue(shared)).toBeUndefined();
  });
});
