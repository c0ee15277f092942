import { describe, expect, it } from "vitest";
import { KoraError } from "../errors";
import { adapterTensorLayout } from "../params/adapter-tensor-layout";
import type { BackboneShape } from "../params/backbone-shape";
import { countParameters } from "../params/count-parameters";
import { encodePeftAdapter } from "../peft/peft-adapter";
import { parseAdapterSpec } from "../spec/parse-adapter-spec";

const vitB16: BackboneShape = {
  dim: 768,
  depth: 12,
  heads: 12,
  mlpDim: 3072,
  numClasses: 100,
  patchSize: 16,
  imageSize: 224,
  channels: 3,
};

function pathOf(input: unknown): string | undefined {
  try {
    parseAdapterSpec(input);
  } catch (error) {
    if (KoraError.isInstance(error) && error.code === "INVALID_SPEC") return error.path;
    throw error;
  }
  throw new Error("expected INVALID_SPEC");
}

describe("gated-lora spec", () => {
  it("fills LoRA's defaults (r 8, α 8, q+v), KoRA's bInitStd and KoRA's gate", () => {
    expect(parseAdapterSpec({ method: "gated-lora" })).toEqual({
      method: "gated-lora",
      rank: 8,
      alpha: 8,
      dropout: 0,
      targets: ["query", "value"],
      layers: null,
      rslora: false,
      bInitStd: 0.02,
      gate: { per: "scalar", init: 0, mode: "learnable" },
    });
  });

  it("counts exactly r·(in + out) + gate per adapted projection", () => {
    const { dim: d, mlpDim: m, depth } = vitB16;
    const count = (input: object) =>
      countParameters(parseAdapterSpec({ method: "gated-lora", ...input }), vitB16).adapter;
    // Hand count, ViT-B/16, r 8 on q and v: 12 blocks · 2 projections · (8·(768 + 768) + 1) = 12 · 2 · 12 289.
    expect(count({})).toBe(294_936);
    expect(count({})).toBe(depth * 2 * (8 * (d + d) + 1));
    // Exactly LoRA's count plus one scalar per adapted projection.
    const lora = countParameters(parseAdapterSpec({ method: "lora" }), vitB16).adapter;
    expect(count({}) - lora).toBe(depth * 2);
    expect(count({ gate: { per: "channel" } })).toBe(depth * 2 * (8 * (d + d) + d));
    expect(count({ gate: { mode: "fixed", init: 1 } })).toBe(lora);
    expect(count({ rank: 4, targets: ["fc1", "fc2"], layers: [0, 6, 11] })).toBe(
      3 * (4 * (d + m) + 1 + 4 * (m + d) + 1),
    );
    expect(count({ targets: ["fc1"], gate: { per: "channel" }, layers: [2] })).toBe(8 * (d + m) + m);
  });

  it("names its tensors layers.{i}.{target}.lora_A, .lora_B, .gate in block order, gate [out] per channel", () => {
    const spec = parseAdapterSpec({
      method: "gated-lora",
      rank: 2,
      layers: [1],
      targets: ["fc1", "query"],
      gate: { per: "channel" },
    });
    const layout = adapterTensorLayout(spec, vitB16, { includeHead: false });
    expect(layout.map((t) => [t.name, t.shape, t.group])).toEqual([
      ["layers.1.query.lora_A", [2, 768], "lora_A"],
      ["layers.1.query.lora_B", [768, 2], "lora_B"],
      ["layers.1.query.gate", [768], "gate"],
      ["layers.1.fc1.lora_A", [2, 768], "lora_A"],
      ["layers.1.fc1.lora_B", [3072, 2], "lora_B"],
      ["layers.1.fc1.gate", [3072], "gate"],
    ]);
  });

  it("rejects bad fields with INVALID_SPEC naming them", () => {
    expect(pathOf({ method: "gated-lora", rank: 0 })).toBe("rank");
    expect(pathOf({ method: "gated-lora", bInitStd: 0 })).toBe("bInitStd");
    expect(pathOf({ method: "gated-lora", targets: ["qkv"] })).toMatch(/^targets/);
    expect(pathOf({ method: "gated-lora", gate: { mode: "fixed" } })).toBe("gate.init");
    expect(pathOf({ method: "gated-lora", init: "gaussian" })).toBe("init");
  });

  it("does not export to peft (peft has no gated LoRA): INVALID_SPEC on method", () => {
    const shape = { ...vitB16, dim: 8, depth: 1, heads: 2, mlpDim: 16, numClasses: 0 };
    let error: unknown;
    try {
      // A caller without types (or with a cast) can still pass any spec: the method is checked at run time.
      encodePeftAdapter({ spec: { method: "gated-lora", rank: 1 } as never, backbone: shape, tensors: {} });
    } catch (caught) {
      error = caught;
    }
    expect(KoraError.isInstance(error) && [error.code, error.path]).toEqual(["INVALID_SPEC", "method"]);
    expect((error as Error).message).toMatch(/gated-lora/);
  });
});
