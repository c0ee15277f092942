import { describe, expect, it } from "vitest";
import { KoraError } from "../errors";
import { ADAPTER_METHODS } from "../methods/registry";
import { parseAdapterSpec } from "./parse-adapter-spec";

function errorOf(input: unknown): KoraError {
  try {
    parseAdapterSpec(input);
  } catch (error) {
    if (KoraError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected parseAdapterSpec to throw");
}

describe("parseAdapterSpec", () => {
  it("fills peft's LoRA defaults", () => {
    expect(parseAdapterSpec({ method: "lora" })).toEqual({
      method: "lora",
      rank: 8,
      alpha: 8,
      dropout: 0,
      targets: ["query", "value"],
      layers: null,
      rslora: false,
      init: "kaiming",
    });
  });

  it("fills the documented KoRA defaults, nested objects included", () => {
    expect(parseAdapterSpec({ method: "kora", composition: { hidden: 8 } })).toEqual({
      method: "kora",
      rank: 8,
      alpha: 8,
      dropout: 0,
      rslora: false,
      layers: null,
      bInitStd: 0.02,
      composition: { kind: "mlp", hidden: 8, activation: "gelu", bias: true },
      gate: { per: "scalar", init: 0, mode: "learnable" },
      apply: "value",
    });
  });

  it("fills the AdapterFusion defaults", () => {
    const spec = parseAdapterSpec({ method: "adapter-fusion", training: "two-stage" });
    expect(spec).toEqual({
      method: "adapter-fusion",
      adapters: ["adapter_0", "adapter_1"],
      reduction: 64,
      bottleneck: null,
      activation: "relu",
      fusion: { variant: "static", attentionDim: 8 },
      training: "two-stage",
      layers: null,
    });
  });

  it("keeps explicit values and does not mutate its input", () => {
    const input = { method: "lora", rank: 4, targets: ["fc1", "query"], layers: [0, 5], rslora: true };
    const copy = structuredClone(input);
    const spec = parseAdapterSpec(input);
    expect(input).toEqual(copy);
    expect(spec).toMatchObject({ rank: 4, targets: ["fc1", "query"], layers: [0, 5], rslora: true });
  });

  it.each([
    [{ method: "lora", rank: -2 }, "rank", /rank.*got -2/],
    [{ method: "lora", rank: 2.5 }, "rank", /got 2\.5/],
    [{ method: "lora", rank: 0 }, "rank", /got 0/],
    [{ method: "lora", rank: "8" }, "rank", /got "8"/],
    [{ method: "lora", dropout: 1 }, "dropout", /dropout/],
    [{ method: "lora", targets: ["query", "attn"] }, "targets[1]", /targets\[1\]/],
    [{ method: "lora", targets: ["query", "query"] }, "targets", /duplicates/],
    [{ method: "lora", targets: [] }, "targets", /targets/],
    [{ method: "lora", layers: [3, 1] }, "layers", /sorted/],
    [{ method: "lora", layers: [-1] }, "layers[0]", /layers\[0\]/],
    [{ method: "lora", rnak: 8 }, "rnak", /unknown field rnak/],
    [{ method: "kora", composition: { hidden: 0 } }, "composition.hidden", /composition\.hidden/],
    [{ method: "kora", composition: { kind: "conv" } }, "composition.kind", /composition\.kind/],
    [{ method: "kora", gate: { per: "token" } }, "gate.per", /gate\.per/],
    [{ method: "kora", gate: { mode: "fixed" } }, "gate.init", /fixed zero gate/],
    [{ method: "kora", bInitStd: 0 }, "bInitStd", /bInitStd/],
    [{ method: "kora", apply: "key" }, "apply", /apply/],
    [{ method: "adapter-fusion", adapters: ["a", "a"] }, "adapters", /duplicates/],
    [{ method: "adapter-fusion", adapters: ["../x"] }, "adapters[0]", /A-Za-z0-9/],
    [{ method: "adapter-fusion", fusion: { variant: "mixed" } }, "fusion.variant", /fusion\.variant/],
  ])("rejects %j at %s", (input, path, message) => {
    const error = errorOf(input);
    expect(error.code).toBe("INVALID_SPEC");
    expect(error.path).toBe(path);
    expect(error.message).toMatch(message);
  });

  it("rejects unknown and missing methods", () => {
    // The list is the registry's, in registry order (the built-in methods first).
    const listed = ADAPTER_METHODS.map((m) => `"${m}"`).join(", ");
    expect(listed.startsWith('"lora", "kora", "adapter-fusion"')).toBe(true);
    expect(errorOf({ method: "dora" }).message).toBe(
      `adapter spec field method: expected one of ${listed}, got "dora"`,
    );
    expect(errorOf({ rank: 8 }).path).toBe("method");
    expect(errorOf(null).code).toBe("INVALID_SPEC");
    expect(errorOf([]).code).toBe("INVALID_SPEC");
    expect(errorOf({ method: "toString" }).path).toBe("method");
  });

  it("rejects __proto__ and constructor keys anywhere, without polluting prototypes", () => {
    const proto = errorOf(JSON.parse('{"method":"lora","__proto__":{"rank":99}}'));
    expect(proto.path).toBe("__proto__");
    const nested = errorOf(JSON.parse('{"method":"kora","composition":{"constructor":{"prototype":{}}}}'));
    expect(nested.path).toBe("composition.constructor");
    expect(({} as Record<string, unknown>)["rank"]).toBeUndefined();
  });

  it("errors are KoraErrors recognised across copies by the Symbol.for marker", () => {
    const error = errorOf({ method: "lora", rank: -1 });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("KoraError");
    const foreign = Object.assign(new Error("x"), { code: "INVALID_SPEC" });
    expect(KoraError.isInstance(foreign)).toBe(false);
    Object.defineProperty(foreign, Symbol.for("kora.error"), { value: true });
    expect(KoraError.isInstance(foreign)).toBe(true);
  });
});
