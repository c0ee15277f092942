import { describe, expect, it } from "vitest";
import { decodeAdapter, encodeAdapter } from "../adapter-file/adapter-file";
import { KoraError } from "../errors";
import { adapterTensorLayout, shapeSize } from "../params/adapter-tensor-layout";
import type { BackboneShape } from "../params/backbone-shape";
import { countParameters } from "../params/count-parameters";
import { encodePeftAdapter } from "../peft/peft-adapter";
import { defaultAdapterSpec, parseAdapterSpec } from "../spec/parse-adapter-spec";
import type { KoraSpec, LoraSpec } from "../spec/types";
import { foldKoraIntoBottleneck } from "./fold-kora";
import { koraMethod } from "./kora";
import { basisFunctionCount, bsplineKnots, compositionBasis, rbfCentres } from "./kora-basis";

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
const { dim: D, depth: L } = vitB16;

const kora = (input: object) => parseAdapterSpec({ method: "kora", ...input }) as KoraSpec;
const adapterCount = (input: object) => countParameters(kora(input), vitB16).adapter;

function errorOf(input: unknown): KoraError {
  try {
    parseAdapterSpec(input);
  } catch (error) {
    if (KoraError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected a KoraError");
}

describe('KoRA apply: "composed-qkv"', () => {
  const r = 8;
  const h = 4;
  const lora = 3 * 2 * r * D;

  it("mlp: fc2 maps h → 3D and there are three gates, so 2·h·D + 2·D + 2 more than apply value per block", () => {
    const value = h * 3 * D + h + (D * h + D) + 1;
    const composed = h * 3 * D + h + (3 * D * h + 3 * D) + 3;
    expect(adapterCount({ rank: r, apply: "value" })).toBe(L * (lora + value));
    expect(adapterCount({ rank: r, apply: "composed-qkv" })).toBe(L * (lora + composed));
    // ViT-B/16, r 8, h 4: 12 · (36 864 + 9 220 + 11 520 + 3) = 12 · 57 607.
    expect(adapterCount({ rank: r, apply: "composed-qkv" })).toBe(691_284);
    expect(adapterCount({ apply: "composed-qkv", gate: { per: "channel" } })).toBe(
      L * (lora + composed - 3 + 3 * D),
    );
    expect(adapterCount({ apply: "composed-qkv", gate: { mode: "fixed", init: 0.5 } })).toBe(
      L * (lora + composed - 3),
    );
    expect(adapterCount({ apply: "composed-qkv", gate: { mode: "none" } })).toBe(L * (lora + composed - 3));
    expect(adapterCount({ apply: "composed-qkv", composition: { bias: false } })).toBe(
      L * (lora + h * 3 * D + 3 * D * h + 3),
    );
  });

  it("attention: only the two extra gates (the output projection is shared by the three read-outs)", () => {
    const attention = 3 * (h * D + h) + (D * h + D);
    expect(adapterCount({ apply: "composed-qkv", composition: { kind: "attention" } })).toBe(
      L * (lora + attention + 3),
    );
    expect(adapterCount({ apply: "composed-qkv", composition: { kind: "attention" } })).toBe(
      adapterCount({ apply: "value", composition: { kind: "attention" } }) + 2 * L,
    );
  });

  it("names three distinct gates per block, one per projection, after the composition", () => {
    const layout = adapterTensorLayout(kora({ apply: "composed-qkv", layers: [1] }), vitB16, {
      includeHead: false,
    });
    expect(layout.map((t) => [t.name, t.shape, t.group])).toEqual([
      ["layers.1.kora.query.lora_A", [8, D], "lora_A"],
      ["layers.1.kora.query.lora_B", [D, 8], "lora_B"],
      ["layers.1.kora.key.lora_A", [8, D], "lora_A"],
      ["layers.1.kora.key.lora_B", [D, 8], "lora_B"],
      ["layers.1.kora.value.lora_A", [8, D], "lora_A"],
      ["layers.1.kora.value.lora_B", [D, 8], "lora_B"],
      ["layers.1.kora.composition.fc1.weight", [4, 3 * D], "composition"],
      ["layers.1.kora.composition.fc1.bias", [4], "composition"],
      ["layers.1.kora.composition.fc2.weight", [3 * D, 4], "composition"],
      ["layers.1.kora.composition.fc2.bias", [3 * D], "composition"],
      ["layers.1.kora.query.gate", [1], "gate"],
      ["layers.1.kora.key.gate", [1], "gate"],
      ["layers.1.kora.value.gate", [1], "gate"],
    ]);
  });

  it("is refused by the peft export as every KoRA spec is (peft has no KoRA)", () => {
    const spec = kora({ apply: "composed-qkv", composition: { basis: { kind: "rbf" } } });
    let caught: unknown;
    try {
      encodePeftAdapter({ spec: spec as unknown as LoraSpec, backbone: vitB16, tensors: {} });
    } catch (error) {
      caught = error;
    }
    expect(KoraError.isInstance(caught) && caught.code).toBe("INVALID_SPEC");
    expect((caught as Error).message).toMatch(/only LoRA adapters export to peft/);
  });

  it("rejects an unknown apply with the field named", () => {
    const error = errorOf({ method: "kora", apply: "composed" });
    expect([error.code, error.path]).toEqual(["INVALID_SPEC", "apply"]);
    expect(error.message).toMatch(/composed-qkv/);
  });

  it("labels and describes it without changing the labels of earlier specs", () => {
    expect(koraMethod.label(kora({}))).toBe("kora-h4-r8");
    expect(koraMethod.label(kora({ apply: "qkv" }))).toBe("kora-h4-r8");
    expect(koraMethod.label(kora({ apply: "composed-qkv" }))).toBe("kora-h4-r8-cqkv");
    expect(koraMethod.describe(kora({ apply: "composed-qkv" }))).toMatch(/three gates/);
  });

  it("is refused by foldKoraIntoBottleneck with INVALID_SPEC at apply, as qkv is", () => {
    const spec = kora({ apply: "composed-qkv" });
    const tensors = Object.fromEntries(
      adapterTensorLayout(spec, vitB16, { includeHead: false }).map((t) => [
        t.name,
        { shape: t.shape, data: new Float32Array(shapeSize(t.shape)) },
      ]),
    );
    let caught: unknown;
    try {
      foldKoraIntoBottleneck(spec, vitB16, tensors);
    } catch (error) {
      caught = error;
    }
    expect(KoraError.isInstance(caught)).toBe(true);
    expect([(caught as KoraError).code, (caught as KoraError).path]).toEqual(["INVALID_SPEC", "apply"]);
    expect((caught as KoraError).message).toMatch(/composed-qkv/);
  });
});

describe("KoRA composition.basis", () => {
  const h = 4;
  const fc = h * 3 * D + h + (D * h + D);
  const perBlockBase = 3 * 2 * 8 * D + fc + 1;

  it("is absent by default, so every earlier spec parses to exactly what it did", () => {
    expect(defaultAdapterSpec("kora").composition).toEqual({
      kind: "mlp",
      hidden: 4,
      activation: "gelu",
      bias: true,
    });
    expect(compositionBasis(defaultAdapterSpec("kora").composition)).toEqual({ kind: "fixed" });
    // Written explicitly, "fixed" is kept as written and owns no tensor.
    expect(kora({ composition: { basis: { kind: "fixed" } } }).composition.basis).toEqual({ kind: "fixed" });
    expect(adapterCount({ composition: { basis: { kind: "fixed" } } })).toBe(adapterCount({}));
  });

  it("fills the rbf and bspline defaults", () => {
    expect(kora({ composition: { basis: { kind: "rbf" } } }).composition.basis).toEqual({
      kind: "rbf",
      grid: 8,
      range: [-2, 2],
    });
    expect(kora({ composition: { basis: { kind: "bspline" } } }).composition.basis).toEqual({
      kind: "bspline",
      grid: 8,
      order: 3,
      range: [-2, 2],
      base: "silu",
    });
  });

  it("counts G coefficients per unit (rbf), G + order (+1 base weight) per unit (bspline)", () => {
    const rbf = adapterCount({ composition: { basis: { kind: "rbf", grid: 6 } } });
    expect(rbf).toBe(L * (perBlockBase + h * 6));
    const spline = adapterCount({ composition: { basis: { kind: "bspline", grid: 5, order: 3 } } });
    expect(spline).toBe(L * (perBlockBase + h * (5 + 3) + h));
    const bare = adapterCount({
      composition: { basis: { kind: "bspline", grid: 5, order: 2, base: "none" } },
    });
    expect(bare).toBe(L * (perBlockBase + h * (5 + 2)));
    const wide = adapterCount({
      composition: { hidden: 16, basis: { kind: "rbf", grid: 10 } },
      apply: "composed-qkv",
    });
    expect(wide).toBe(L * (3 * 2 * 8 * D + (16 * 3 * D + 16) + 16 * 10 + (3 * D * 16 + 3 * D) + 3));
  });

  it("lays the basis out between fc1 and fc2, [h, K] in PyTorch layout", () => {
    const layout = adapterTensorLayout(
      kora({ layers: [0], composition: { basis: { kind: "bspline", grid: 5 } } }),
      vitB16,
      { includeHead: false },
    ).filter((t) => t.group === "composition");
    expect(layout.map((t) => [t.name, t.shape])).toEqual([
      ["layers.0.kora.composition.fc1.weight", [4, 3 * D]],
      ["layers.0.kora.composition.fc1.bias", [4]],
      ["layers.0.kora.composition.basis.coefficients", [4, 8]],
      ["layers.0.kora.composition.basis.base", [4]],
      ["layers.0.kora.composition.fc2.weight", [D, 4]],
      ["layers.0.kora.composition.fc2.bias", [D]],
    ]);
  });

  it.each([
    [{ kind: "rbf", grid: 1 }, "composition.basis.grid", />=2/],
    [{ kind: "rbf", grid: 2.5 }, "composition.basis.grid", /int/],
    [{ kind: "rbf", grid: 257 }, "composition.basis.grid", /256/],
    [{ kind: "bspline", grid: 0 }, "composition.basis.grid", />=1/],
    [{ kind: "bspline", order: 0 }, "composition.basis.order", />=1/],
    [{ kind: "bspline", order: 6 }, "composition.basis.order", /5/],
    [{ kind: "rbf", range: [1, 1] }, "composition.basis.range", /lo < hi/],
    [{ kind: "rbf", range: [2, -2] }, "composition.basis.range", /lo < hi/],
    [{ kind: "rbf", range: [0] }, "composition.basis.range", /./],
    [{ kind: "bspline", range: [0, Number.POSITIVE_INFINITY] }, "composition.basis.range[1]", /number/],
    [{ kind: "bspline", base: "gelu" }, "composition.basis.base", /silu/],
    [{ kind: "rbf", order: 3 }, "composition.basis.order", /unknown field/],
    [{ kind: "chebyshev" }, "composition.basis.kind", /fixed|rbf|bspline/],
  ])("rejects basis %j at %s", (basis, path, message) => {
    const error = errorOf({ method: "kora", composition: { basis } });
    expect([error.code, error.path]).toEqual(["INVALID_SPEC", path]);
    expect(error.message).toMatch(message);
  });

  it("rejects a learnable basis on the attention composition", () => {
    const error = errorOf({ method: "kora", composition: { kind: "attention", basis: { kind: "rbf" } } });
    expect([error.code, error.path]).toEqual(["INVALID_SPEC", "composition.basis"]);
    expect(error.message).toMatch(/mlp/);
    // "fixed" is what the attention composition has anyway.
    expect(() => kora({ composition: { kind: "attention", basis: { kind: "fixed" } } })).not.toThrow();
  });

  it("derives the RBF centres and the B-spline knots from grid and range", () => {
    expect(rbfCentres({ grid: 5, range: [-2, 2] })).toEqual({ centres: [-2, -1, 0, 1, 2], sigma: 1 });
    const { knots, step } = bsplineKnots({ grid: 4, order: 3, range: [-2, 2] });
    expect(step).toBe(1);
    expect(knots).toEqual([-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5]);
    expect(basisFunctionCount({ kind: "bspline", grid: 4, order: 3, range: [-2, 2], base: "silu" })).toBe(
      knots.length - 3 - 1,
    );
  });

  it("labels only learnable bases", () => {
    expect(koraMethod.label(kora({ composition: { basis: { kind: "fixed" } } }))).toBe("kora-h4-r8");
    expect(koraMethod.label(kora({ composition: { basis: { kind: "rbf", grid: 6 } } }))).toBe(
      "kora-h4-r8-rbf6",
    );
    expect(
      koraMethod.label(kora({ composition: { basis: { kind: "bspline" } }, apply: "composed-qkv" })),
    ).toBe("kora-h4-r8-bspline8o3-cqkv");
  });

  it("is refused by foldKoraIntoBottleneck with INVALID_SPEC at composition.basis", () => {
    const spec = kora({ composition: { basis: { kind: "rbf" } } });
    const error = (() => {
      try {
        foldKoraIntoBottleneck(spec, vitB16, {});
      } catch (e) {
        return e as KoraError;
      }
      throw new Error("expected a throw");
    })();
    expect([error.code, error.path]).toEqual(["INVALID_SPEC", "composition.basis"]);
  });

  it("round-trips an adapter file with a basis and composed-qkv gates (spec and every tensor)", () => {
    const small: BackboneShape = { ...vitB16, dim: 8, depth: 2, heads: 2, mlpDim: 16, numClasses: 3 };
    const spec = kora({
      rank: 2,
      apply: "composed-qkv",
      gate: { per: "channel" },
      composition: { hidden: 3, basis: { kind: "bspline", grid: 4, order: 2, range: [-1, 3] } },
    });
    const tensors = Object.fromEntries(
      adapterTensorLayout(spec, small).map((t, i) => [
        t.name,
        { shape: t.shape, data: Float32Array.from({ length: shapeSize(t.shape) }, (_, j) => i + j / 7) },
      ]),
    );
    const encoded = encodeAdapter({ spec, backbone: small, tensors });
    const loaded = decodeAdapter({
      manifest: encoded.manifestJson,
      safetensors: encoded.safetensors,
      backbone: small,
    });
    expect(loaded.manifest.spec).toEqual(spec);
    expect(Object.keys(loaded.tensors).sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, tensor] of Object.entries(tensors)) {
      expect(loaded.tensors[name]?.shape, name).toEqual(tensor.shape);
      expect(loaded.tensors[name]?.data, name).toEqual(tensor.data);
    }
  });
});
