import { singularValues } from "@kora/metrics";
import {
  type AdapterTensor,
  adapterTensorLayout,
  foldKoraIntoBottleneck,
  parseAdapterSpec,
} from "@kora/spec";
import { describe, expect, it } from "vitest";
import { compressedBits, prune, quantise, readSpectra } from "./compress";

const backbone = {
  dim: 8,
  depth: 2,
  heads: 2,
  mlpDim: 16,
  numClasses: 0,
  patchSize: 4,
  imageSize: 8,
  channels: 1,
};

/** Seeded tensors for every entry of a spec's layout. */
function tensorsFor(spec: ReturnType<typeof parseAdapterSpec>): Record<string, AdapterTensor> {
  let a = 7;
  const next = () => {
    a = (a * 1103515245 + 12345) % 2147483648;
    return a / 2147483648 - 0.5;
  };
  return Object.fromEntries(
    adapterTensorLayout(spec, backbone, { includeHead: false }).map((info) => [
      info.name,
      {
        shape: [...info.shape],
        data: Float32Array.from({ length: info.shape.reduce((x, y) => x * y, 1) }, next),
      },
    ]),
  );
}

function product(b: AdapterTensor, a: AdapterTensor, s: number): number[][] {
  const [out, r] = b.shape as [number, number];
  const n = a.shape[1] as number;
  return Array.from({ length: out }, (_, i) =>
    Array.from({ length: n }, (_, j) => {
      let sum = 0;
      for (let k = 0; k < r; k++) sum += (b.data[i * r + k] as number) * (a.data[k * n + j] as number);
      return s * sum;
    }),
  );
}

describe("quantise and prune", () => {
  it("keeps every value within half a step of the original, with codes in ±(2^(bits−1) − 1)", () => {
    const values = Float32Array.from([0.5, -1, 0.25, 0, 0.8, -0.3]);
    for (const bits of [8, 4, 2]) {
      const levels = 2 ** (bits - 1) - 1;
      const { codes, restored } = quantise(values, bits);
      const step = 1 / levels; // max |w| = 1
      values.forEach((v, i) => {
        expect(Math.abs((restored[i] as number) - v)).toBeLessThanOrEqual(step / 2 + 1e-7);
        expect(Math.abs(codes[i] as number)).toBeLessThanOrEqual(levels);
      });
      expect(restored[3]).toBe(0);
      expect(restored[1]).toBeCloseTo(-1, 6);
    }
    expect(Array.from(quantise(new Float32Array(3), 4).restored)).toEqual([0, 0, 0]);
  });

  it("prunes exactly ⌊fraction·n⌋ smallest magnitudes and leaves the rest", () => {
    const values = Float32Array.from([0.1, -0.5, 0.05, 2, -0.01, 0.3]);
    expect(Array.from(prune(values, 0.5))).toEqual(Array.from(Float32Array.from([0, -0.5, 0, 2, 0, 0.3])));
    expect(Array.from(prune(values, 0))).toEqual(Array.from(values));
  });

  it("measures a constant stream as far smaller than a varied one", () => {
    const varied = Uint8Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24);
    expect(compressedBits(new Uint8Array(4096))).toBeLessThan(compressedBits(varied) / 20);
    expect(compressedBits(new Uint8Array(0), 4)).toBeGreaterThanOrEqual(32);
  });
});

describe("readSpectra", () => {
  it("LoRA: the singular values of s·B·A for each adapted projection, per block", () => {
    const spec = parseAdapterSpec({ method: "lora", rank: 2, alpha: 4, targets: ["query", "value"] });
    const tensors = tensorsFor(spec);
    const spectra = readSpectra(spec, backbone, tensors);
    expect(spectra.map((s) => [s.block, s.name])).toEqual([
      [0, "layers.0.query"],
      [0, "layers.0.value"],
      [1, "layers.1.query"],
      [1, "layers.1.value"],
    ]);
    for (const s of spectra) {
      const direct = singularValues(
        product(
          tensors[`${s.name}.lora_B`] as AdapterTensor,
          tensors[`${s.name}.lora_A`] as AdapterTensor,
          2,
        ),
      );
      expect(s.values.length).toBe(2);
      s.values.forEach((v, i) => {
        expect(v).toBeCloseTo(direct[i] as number, 5);
      });
    }
  });

  it("KoRA (mlp, value path): the spectrum of the folded W₁', the same as its bottleneck twin's down-projection", () => {
    const spec = parseAdapterSpec({ method: "kora", rank: 2, composition: { hidden: 3 } });
    if (spec.method !== "kora") throw new Error("expected a KoRA spec");
    const tensors = tensorsFor(spec);
    const spectra = readSpectra(spec, backbone, tensors);
    const folded = foldKoraIntoBottleneck(spec, backbone, tensors);
    expect(spectra.map((s) => s.block)).toEqual([0, 1]);
    expect(spectra).toEqual(readSpectra(folded.spec, backbone, folded.tensors));
    // W₁' is h×D = 3×8 with rank ≤ min(h, 3r) = 3.
    for (const s of spectra) expect(s.values.length).toBe(3);
    // Forms that do not fold have no single read matrix.
    expect(readSpectra(parseAdapterSpec({ method: "kora", rank: 2, apply: "qkv" }), backbone, {})).toEqual(
      [],
    );
  });
});
