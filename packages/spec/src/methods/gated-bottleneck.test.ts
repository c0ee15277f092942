import { describe, expect, it } from "vitest";
import { KoraError } from "../errors";
import { adapterTensorLayout } from "../params/adapter-tensor-layout";
import type { BackboneShape } from "../params/backbone-shape";
import { countParameters } from "../params/count-parameters";
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

describe("gated-bottleneck spec", () => {
  it("fills KoRA's composition defaults (h 4, gelu, biases) and KoRA's gate", () => {
    expect(parseAdapterSpec({ method: "gated-bottleneck" })).toEqual({
      method: "gated-bottleneck",
      hidden: 4,
      activation: "gelu",
      bias: true,
      dropout: 0,
      layers: null,
      gate: { per: "scalar", init: 0, mode: "learnable" },
    });
  });

  it("counts exactly 2·h·D + h + D + gate per block", () => {
    const { dim: d, depth } = vitB16;
    const h = 8;
    const count = (input: object) =>
      countParameters(parseAdapterSpec({ method: "gated-bottleneck", hidden: h, ...input }), vitB16).adapter;
    expect(count({})).toBe(depth * (2 * h * d + h + d + 1)); // 12 · 13 065 = 156 780
    expect(count({})).toBe(156_780);
    expect(count({ gate: { per: "channel" } })).toBe(depth * (2 * h * d + h + d + d));
    expect(count({ bias: false })).toBe(depth * (2 * h * d + 1));
    expect(count({ gate: { mode: "fixed", init: 1 } })).toBe(depth * (2 * h * d + h + d));
    expect(count({ layers: [0, 6, 11] })).toBe(3 * (2 * h * d + h + d + 1));
  });

  it("has the same composition-side parameters as KoRA-mlp, without KoRA's 6·r·D low-rank factors and W₁'s 2·h·D", () => {
    const { dim: d, depth } = vitB16;
    const kora = countParameters(parseAdapterSpec({ method: "kora", rank: 8 }), vitB16).adapter;
    const twin = countParameters(parseAdapterSpec({ method: "gated-bottleneck" }), vitB16).adapter;
    // KoRA: 3·(2·r·D) + (3D·h + h) + (h·D + D) + 1; the twin: (h·D + h) + (h·D + D) + 1.
    expect(kora - twin).toBe(depth * (6 * 8 * d + 2 * 4 * d));
  });

  it("names its tensors layers.{i}.bottleneck.{down,up}.{weight,bias} and .gate, weights [out, in]", () => {
    const layout = adapterTensorLayout(
      parseAdapterSpec({ method: "gated-bottleneck", layers: [1] }),
      vitB16,
      {
        includeHead: false,
      },
    );
    expect(layout.map((t) => [t.name, t.shape, t.group])).toEqual([
      ["layers.1.bottleneck.down.weight", [4, 768], "adapter"],
      ["layers.1.bottleneck.down.bias", [4], "adapter"],
      ["layers.1.bottleneck.up.weight", [768, 4], "adapter"],
      ["layers.1.bottleneck.up.bias", [768], "adapter"],
      ["layers.1.bottleneck.gate", [1], "gate"],
    ]);
  });

  it("rejects bad fields with INVALID_SPEC naming them", () => {
    expect(pathOf({ method: "gated-bottleneck", hidden: 0 })).toBe("hidden");
    expect(pathOf({ method: "gated-bottleneck", hidden: 2.5 })).toBe("hidden");
    expect(pathOf({ method: "gated-bottleneck", activation: "swish" })).toBe("activation");
    expect(pathOf({ method: "gated-bottleneck", dropout: 1 })).toBe("dropout");
    expect(pathOf({ method: "gated-bottleneck", gate: { mode: "fixed" } })).toBe("gate.init");
    expect(pathOf({ method: "gated-bottleneck", rank: 8 })).toBe("rank");
  });
});
