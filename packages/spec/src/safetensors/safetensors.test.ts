import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fixturePath } from "../../../../fixtures/fixtures";
import { readSafetensors } from "./read";
import { writeSafetensors } from "./write";

const FIXTURE = fixturePath("vit", "vit-micro-hf.safetensors");
const ascii = (text: string) => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** Index of the first differing byte, or -1 when `a` and `b` are identical (fast on large arrays). */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : length;
}

/** A deliberately separate reader: header via DataView + JSON.parse, data via DataView.getFloat32. */
function independentFloat32(bytes: Uint8Array, name: string): { shape: number[]; values: number[] } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  const header = JSON.parse(decode(bytes.subarray(8, 8 + headerLength)));
  const entry = header[name] as { dtype: string; shape: number[]; data_offsets: [number, number] };
  expect(entry.dtype).toBe("F32");
  const values: number[] = [];
  for (let at = entry.data_offsets[0]; at < entry.data_offsets[1]; at += 4) {
    values.push(view.getFloat32(8 + headerLength + at, true));
  }
  return { shape: entry.shape, values };
}

function headerOf(bytes: Uint8Array): { length: number; text: string } {
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { length, text: decode(bytes.subarray(8, 8 + length)) };
}

function expectedVitNames(): string[] {
  const layer = [
    "attention.attention.key.bias",
    "attention.attention.key.weight",
    "attention.attention.query.bias",
    "attention.attention.query.weight",
    "attention.attention.value.bias",
    "attention.attention.value.weight",
    "attention.output.dense.bias",
    "attention.output.dense.weight",
    "intermediate.dense.bias",
    "intermediate.dense.weight",
    "layernorm_after.bias",
    "layernorm_after.weight",
    "layernorm_before.bias",
    "layernorm_before.weight",
    "output.dense.bias",
    "output.dense.weight",
  ];
  return [
    "vit.embeddings.cls_token",
    "vit.embeddings.position_embeddings",
    "vit.embeddings.patch_embeddings.projection.weight",
    "vit.embeddings.patch_embeddings.projection.bias",
    ...[0, 1, 2].flatMap((n) => layer.map((suffix) => `vit.encoder.layer.${n}.${suffix}`)),
    "vit.layernorm.weight",
    "vit.layernorm.bias",
    "classifier.weight",
    "classifier.bias",
  ];
}

describe("the vit-micro-hf fixture", () => {
  const original = new Uint8Array(readFileSync(FIXTURE));

  it("has the 56 ViT tensors with their shapes and the metadata", () => {
    const { tensors, metadata } = readSafetensors(original);
    expect(Object.keys(tensors).sort()).toEqual(expectedVitNames().sort());
    expect(Object.keys(tensors)).toHaveLength(4 + 16 * 3 + 2 + 2);
    expect(tensors["vit.embeddings.patch_embeddings.projection.weight"]!.shape).toEqual([48, 3, 8, 8]);
    expect(tensors["vit.embeddings.position_embeddings"]!.shape).toEqual([1, 17, 48]);
    expect(tensors["vit.embeddings.cls_token"]!.shape).toEqual([1, 1, 48]);
    expect(tensors["vit.encoder.layer.2.intermediate.dense.weight"]!.shape).toEqual([192, 48]);
    expect(tensors["classifier.weight"]!.shape).toEqual([10, 48]);
    expect(tensors["classifier.bias"]!.shape).toEqual([10]);
    for (const tensor of Object.values(tensors)) {
      expect(tensor.dtype).toBe("F32");
      expect(tensor.data).toBeInstanceOf(Float32Array);
      expect(tensor.data.length).toBe(tensor.shape.reduce((a, b) => a * b, 1));
    }
    expect({ ...metadata }).toEqual({ format: "pt" });
  });

  it("matches an independent reader and the numpy checksum of one tensor", () => {
    const name = "vit.encoder.layer.0.attention.attention.query.weight";
    const reference = independentFloat32(original, name);
    const tensor = readSafetensors(original).tensors[name]!;
    expect(tensor.shape).toEqual(reference.shape);
    expect(Array.from(tensor.data as Float32Array)).toEqual(reference.values);
    let sum = 0;
    let sumOfSquares = 0;
    for (const value of tensor.data as Float32Array) {
      sum += value;
      sumOfSquares += value * value;
    }
    // numpy: a.astype(float64).sum() and (a*a).sum()
    expect(Math.abs(sum / -0.7602293013915187 - 1)).toBeLessThan(1e-6);
    expect(Math.abs(sumOfSquares / 49.42046889248074 - 1)).toBeLessThan(1e-6);
  });

  it("re-encodes to the reference layout: same data bytes, __metadata__ moved first, stable from then on", () => {
    // The fixture was not written by the reference serializer: it puts __metadata__ last in the header (the
    // reference puts it first). Its data order (all F32, by name) is the canonical one, so only the header
    // differs, and it differs exactly by where __metadata__ sits.
    const first = writeSafetensors(readSafetensors(original).tensors, readSafetensors(original).metadata);
    const before = headerOf(original);
    const after = headerOf(first);
    expect(before.text.endsWith(`,"__metadata__":{"format":"pt"}}      `)).toBe(true);
    const moved = `{"__metadata__":{"format":"pt"},${before.text.slice(1).replace(`,"__metadata__":{"format":"pt"}}`, "}")}`;
    expect(after.text).toBe(moved);
    expect(after.length).toBe(before.length);
    expect(first.length).toBe(original.length);
    expect(firstDifference(first.subarray(8 + after.length), original.subarray(8 + before.length))).toBe(-1);

    const decoded = readSafetensors(first);
    const second = writeSafetensors(decoded.tensors, decoded.metadata);
    expect(firstDifference(second, first)).toBe(-1);
  });
});

describe("reference layout (huggingface/safetensors serialize)", () => {
  const u64 = (n: number) => {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(n), true);
    return bytes;
  };
  const concat = (...parts: Uint8Array[]) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  };
  const data = new Float32Array([0, 1, 2, 3, 4, 5]);

  it("writes a 64-byte header unpadded (reference test_serialization)", () => {
    const header = `{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}`;
    expect(header).toHaveLength(64);
    const expected = concat(u64(64), ascii(header), new Uint8Array(data.buffer));
    expect(writeSafetensors({ "attn.0": { dtype: "F32", shape: [1, 2, 3], data } })).toEqual(expected);
  });

  it("pads the header with spaces to a multiple of 8 (reference test_serialization_forced_alignement)", () => {
    const header = `{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}`;
    const expected = concat(u64(72), ascii(`${header}       `), new Uint8Array(data.buffer));
    expect(writeSafetensors({ attn0: { dtype: "F32", shape: [1, 1, 2, 3], data } })).toEqual(expected);
  });

  it("writes empty files with and without metadata (reference test_empty)", () => {
    expect(writeSafetensors({})).toEqual(concat(u64(8), ascii("{}      ")));
    expect(writeSafetensors({}, {})).toEqual(concat(u64(8), ascii("{}      ")));
    const withMetadata = `{"__metadata__":{"framework":"pt"}}     `;
    expect(writeSafetensors({}, { framework: "pt" })).toEqual(concat(u64(40), ascii(withMetadata)));
  });

  it("orders data by dtype alignment descending, then by name in code-point order", () => {
    const bytes = writeSafetensors(
      {
        b: { dtype: "U8", shape: [3], data: new Uint8Array(3) },
        a: { dtype: "U8", shape: [1], data: new Uint8Array(1) },
        z: { dtype: "F32", shape: [1], data: new Float32Array(1) },
        c: { dtype: "I64", shape: [1], data: new BigInt64Array(1) },
        m: { dtype: "BOOL", shape: [1], data: new Uint8Array(1) },
        h: { dtype: "F16", shape: [1], data: new Uint16Array(1) },
        g: { dtype: "BF16", shape: [1], data: new Uint16Array(1) },
        d: { dtype: "F64", shape: [1], data: new Float64Array(1) },
        u: { dtype: "U64", shape: [1], data: new BigUint64Array(1) },
        i: { dtype: "I32", shape: [1], data: new Int32Array(1) },
        j: { dtype: "U32", shape: [1], data: new Uint32Array(1) },
        k: { dtype: "I16", shape: [1], data: new Int16Array(1) },
        l: { dtype: "U16", shape: [1], data: new Uint16Array(1) },
        n: { dtype: "I8", shape: [1], data: new Int8Array(1) },
        "\u{1F600}": { dtype: "F32", shape: [1], data: new Float32Array(1) },
        "\uFFFD": { dtype: "F32", shape: [1], data: new Float32Array(1) },
      },
      { z: "last", a: "first" },
    );
    const { length, text } = headerOf(bytes);
    expect(length % 8).toBe(0);
    const header = JSON.parse(text) as Record<string, { data_offsets: [number, number] }>;
    const tensorsInHeaderOrder = Object.keys(header).filter((k) => k !== "__metadata__");
    // Object.keys keeps the text order of non-integer-like keys, which is all there is here.
    expect(tensorsInHeaderOrder).toEqual([
      "u",
      "c",
      "d",
      "z",
      "\uFFFD",
      "\u{1F600}",
      "j",
      "i",
      "g",
      "h",
      "l",
      "k",
      "n",
      "a",
      "b",
      "m",
    ]);
    expect(text.startsWith(`{"__metadata__":{"a":"first","z":"last"},"u":`)).toBe(true);
    let end = 0;
    for (const name of tensorsInHeaderOrder) {
      expect(header[name]!.data_offsets[0]).toBe(end);
      end = header[name]!.data_offsets[1];
    }
    expect(bytes.length).toBe(8 + length + end);
  });

  it("does not depend on the insertion order of tensors or metadata", () => {
    const a = { dtype: "F32" as const, shape: [2], data: new Float32Array([1, 2]) };
    const b = { dtype: "I32" as const, shape: [1], data: new Int32Array([3]) };
    expect(writeSafetensors({ a, b }, { x: "1", y: "2" })).toEqual(
      writeSafetensors({ b, a }, { y: "2", x: "1" }),
    );
  });
});
