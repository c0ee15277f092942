import { describe, expect, it } from "vitest";
import { type AdapterTensor, validateAdapterTensors } from "../adapter-file/adapter-file";
import { KoraError } from "../errors";
import { adapterTensorLayout, shapeSize } from "../params/adapter-tensor-layout";
import type { BackboneShape } from "../params/backbone-shape";
import { parseAdapterSpec } from "../spec/parse-adapter-spec";
import type { KoraSpec } from "../spec/types";
import { foldKoraIntoBottleneck } from "./fold-kora";

const micro: BackboneShape = {
  dim: 12,
  depth: 3,
  heads: 3,
  mlpDim: 24,
  numClasses: 5,
  patchSize: 4,
  imageSize: 8,
  channels: 3,
};

function randomTensors(spec: KoraSpec, seed: number): Record<string, AdapterTensor> {
  let state = seed;
  const out: Record<string, AdapterTensor> = {};
  for (const t of adapterTensorLayout(spec, micro)) {
    const data = new Float32Array(shapeSize(t.shape));
    for (let i = 0; i < data.length; i++) {
      state = (state * 1103515245 + 12345) % 2147483648;
      data[i] = state / 2147483648 - 0.5;
    }
    out[t.name] = { shape: t.shape, data };
  }
  return out;
}

function matVec(
  m: Float32Array,
  rows: number,
  cols: number,
  x: readonly number[],
  offset = 0,
  stride = cols,
) {
  return Array.from({ length: rows }, (_, i) => {
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += (m[i * stride + offset + j] as number) * (x[j] as number);
    return sum;
  });
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

describe("foldKoraIntoBottleneck", () => {
  const spec = parseAdapterSpec({
    method: "kora",
    rank: 2,
    alpha: 3,
    rslora: true,
    layers: [0, 2],
    composition: { hidden: 3, activation: "relu" },
    gate: { per: "channel" },
  }) as KoraSpec;
  const tensors = randomTensors(spec, 17);

  it("W₁'·x equals KoRA's first composition layer W₁·[δ_q; δ_k; δ_v] (float64 reference, 1e-6)", () => {
    const folded = foldKoraIntoBottleneck(spec, micro, tensors);
    const d = micro.dim;
    const r = spec.rank;
    const h = spec.composition.hidden;
    const s = spec.alpha / Math.sqrt(r);
    const x = Array.from({ length: d }, (_, i) => Math.sin(1.3 * i + 0.4));
    for (const layer of [0, 2]) {
      const kora = `layers.${layer}.kora`;
      const deltas = (["query", "key", "value"] as const).map((target) => {
        const ax = matVec(tensors[`${kora}.${target}.lora_A`]!.data, r, d, x);
        return matVec(tensors[`${kora}.${target}.lora_B`]!.data, d, r, ax).map((v) => s * v);
      });
      const w1 = tensors[`${kora}.composition.fc1.weight`]!.data;
      const expected = Array.from({ length: h }, (_, i) =>
        deltas.reduce((sum, delta, t) => sum + matVec(w1, h, d, delta, t * d, 3 * d)[i]!, 0),
      );
      const actual = matVec(folded.tensors[`layers.${layer}.bottleneck.down.weight`]!.data, h, d, x);
      // float32 storage of W₁' (entries of order 0.1): ~1e-8 absolute per entry, ~1e-7 after the sum over D.
      for (let i = 0; i < h; i++) expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThan(1e-6);
    }
  });

  it("returns a complete gated-bottleneck spec whose layout the tensors fill exactly, head passed through", () => {
    const folded = foldKoraIntoBottleneck(spec, micro, tensors);
    expect(folded.spec).toEqual(
      parseAdapterSpec({
        method: "gated-bottleneck",
        hidden: 3,
        activation: "relu",
        layers: [0, 2],
        gate: { per: "channel" },
      }),
    );
    expect(() =>
      validateAdapterTensors(folded.spec, micro, folded.tensors, { includeHead: true }),
    ).not.toThrow();
    expect(folded.tensors["head.weight"]?.data).toEqual(tensors["head.weight"]?.data);
    expect(folded.tensors["layers.2.bottleneck.gate"]?.data).toEqual(tensors["layers.2.kora.gate"]?.data);
    expect(folded.tensors["layers.0.bottleneck.up.weight"]?.data).toEqual(
      tensors["layers.0.kora.composition.fc2.weight"]?.data,
    );
  });

  it("W₁' has rank ≤ 3r when h > 3r", () => {
    const wide = parseAdapterSpec({
      method: "kora",
      rank: 1,
      composition: { hidden: 8 },
      layers: [1],
    }) as KoraSpec;
    const folded = foldKoraIntoBottleneck(wide, micro, randomTensors(wide, 5));
    const w = folded.tensors["layers.1.bottleneck.down.weight"]!.data;
    // Gaussian elimination with partial pivoting on the 8×12 matrix. Measured pivots / max|W₁'|: 0.49, 0.43, 0.022,
    // then 1.9e-6 and ≤ 3e-8 (float32 storage noise, amplified by elimination), so 1e-4 separates them clearly.
    const rows = Array.from({ length: 8 }, (_, i) => Array.from(w.subarray(i * 12, (i + 1) * 12), Number));
    const scale = Math.max(...rows.flat().map(Math.abs));
    let rank = 0;
    for (let col = 0; col < 12 && rank < 8; col++) {
      let pivot = rank;
      for (let i = rank; i < 8; i++) if (Math.abs(rows[i]![col]!) > Math.abs(rows[pivot]![col]!)) pivot = i;
      if (Math.abs(rows[pivot]![col]!) <= 1e-4 * scale) continue;
      [rows[rank], rows[pivot]] = [rows[pivot]!, rows[rank]!];
      for (let i = rank + 1; i < 8; i++) {
        const f = rows[i]![col]! / rows[rank]![col]!;
        for (let j = col; j < 12; j++) rows[i]![j]! -= f * rows[rank]![j]!;
      }
      rank++;
    }
    expect(rank).toBe(3);
  });

  it("refuses what does not fold, and tensors that do not match, with codes naming the field", () => {
    const attention = parseAdapterSpec({ method: "kora", composition: { kind: "attention" } }) as KoraSpec;
    const e1 = errorOf(() => foldKoraIntoBottleneck(attention, micro, randomTensors(attention, 1)));
    expect([e1.code, e1.path]).toEqual(["INVALID_SPEC", "composition.kind"]);
    const qkv = parseAdapterSpec({ method: "kora", apply: "qkv" }) as KoraSpec;
    const e2 = errorOf(() => foldKoraIntoBottleneck(qkv, micro, randomTensors(qkv, 1)));
    expect([e2.code, e2.path]).toEqual(["INVALID_SPEC", "apply"]);
    const broken = {
      ...tensors,
      "layers.0.kora.query.lora_A": { shape: [3, 12], data: new Float32Array(36) },
    };
    const e3 = errorOf(() => foldKoraIntoBottleneck(spec, micro, broken));
    expect([e3.code, e3.path]).toEqual(["SHAPE_MISMATCH", "layers.0.kora.query.lora_A"]);
  });
});
