import { describe, expect, it } from "vitest";
import { initialiseWeights } from "./init";
import { tinyViT } from "./test-support/tiny";

function stats(values: Float32Array): { mean: number; std: number; maxAbs: number } {
  let sum = 0;
  let max = 0;
  for (const v of values) {
    sum += v;
    max = Math.max(max, Math.abs(v));
  }
  const mean = sum / values.length;
  let square = 0;
  for (const v of values) square += (v - mean) ** 2;
  return { mean, std: Math.sqrt(square / values.length), maxAbs: max };
}

function parameter(vit: ReturnType<typeof tinyViT>, name: string): Float32Array {
  const found = vit.namedParameters().find((p) => p.name === name);
  if (found === undefined) throw new Error(`no ${name}`);
  return Float32Array.from(found.variable.dataSync());
}

describe("initialiseWeights", () => {
  it('"lecun" draws weight matrices as N(0, 1/fan_in) truncated at 2σ', () => {
    const vit = tinyViT(1);
    initialiseWeights(vit, "lecun", 0);
    // fc1: [24 → 48] in the tfjs layout [in, out]; a 2σ-truncated normal has std 0.8796σ.
    const weights = parameter(vit, "vit.encoder.layer.0.intermediate.dense.weight");
    const sigma = 1 / Math.sqrt(24);
    const { mean, std, maxAbs } = stats(weights);
    expect(Math.abs(mean)).toBeLessThan(0.1 * sigma);
    expect(std / (0.8796 * sigma)).toBeGreaterThan(0.9);
    expect(std / (0.8796 * sigma)).toBeLessThan(1.1);
    expect(maxAbs).toBeLessThanOrEqual(2 * sigma + 1e-6);
    vit.dispose();
  });

  it("leaves LayerNorms, biases and position embeddings as they were", () => {
    const vit = tinyViT(1);
    const names = [
      "vit.encoder.layer.0.layernorm_before.weight",
      "vit.encoder.layer.0.intermediate.dense.bias",
      "vit.embeddings.position_embeddings",
    ];
    const before = names.map((n) => parameter(vit, n));
    initialiseWeights(vit, "lecun", 5);
    names.forEach((n, i) => {
      expect(Array.from(parameter(vit, n))).toEqual(Array.from(before[i]!));
    });
    vit.dispose();
  });

  it("is deterministic by seed; another seed gives other weights; hf changes nothing", () => {
    const name = "vit.encoder.layer.1.attention.attention.query.weight";
    const draw = (seed: number) => {
      const vit = tinyViT(1);
      initialiseWeights(vit, "lecun", seed);
      const values = parameter(vit, name);
      vit.dispose();
      return Array.from(values);
    };
    expect(draw(3)).toEqual(draw(3));
    expect(draw(4)).not.toEqual(draw(3));
    const vit = tinyViT(1);
    const before = Array.from(parameter(vit, name));
    initialiseWeights(vit, "hf", 3);
    expect(Array.from(parameter(vit, name))).toEqual(before);
    vit.dispose();
  });

  it("rejects an unknown scheme with INVALID_ARGUMENT", () => {
    const vit = tinyViT(1);
    expect(() => initialiseWeights(vit, "xavier" as "hf", 0)).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT", path: "scheme" }),
    );
    vit.dispose();
  });
});
