import { describe, expect, it } from "vitest";
import { KoraError } from "../errors";
import type { SafetensorsTypedArray } from "./dtypes";
import { readSafetensors } from "./read";
import type { SafetensorsTensorInput } from "./tensor";
import { toFloat32 } from "./to-float32";
import { writeSafetensors } from "./write";

const bytesOf = (array: SafetensorsTypedArray) =>
  new Uint8Array(array.buffer, array.byteOffset, array.byteLength);

const ALL_DTYPES: Record<string, SafetensorsTensorInput> = {
  bool: { dtype: "BOOL", shape: [3], data: new Uint8Array([1, 0, 1]) },
  u8: { dtype: "U8", shape: [2], data: new Uint8Array([0, 255]) },
  i8: { dtype: "I8", shape: [3], data: new Int8Array([-128, 127, -1]) },
  i16: { dtype: "I16", shape: [2], data: new Int16Array([-32768, 32767]) },
  u16: { dtype: "U16", shape: [2], data: new Uint16Array([0, 65535]) },
  i32: { dtype: "I32", shape: [3], data: new Int32Array([-(2 ** 31), 2 ** 31 - 1, 0]) },
  u32: { dtype: "U32", shape: [2], data: new Uint32Array([0, 2 ** 32 - 1]) },
  i64: { dtype: "I64", shape: [2, 2], data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n]) },
  u64: { dtype: "U64", shape: [3], data: new BigUint64Array([0n, 2n ** 64n - 1n, 2n ** 53n + 1n]) },
  // subnormal, +Infinity, -Infinity, NaN, 1, -0
  f16: {
    dtype: "F16",
    shape: [2, 3],
    data: new Uint16Array([0x0001, 0x7c00, 0xfc00, 0x7e00, 0x3c00, 0x8000]),
  },
  // subnormal, +Infinity, NaN, -3.140625, 1
  bf16: { dtype: "BF16", shape: [5], data: new Uint16Array([0x0001, 0x7f80, 0x7fc0, 0xc049, 0x3f80]) },
  f32: {
    dtype: "F32",
    shape: [5],
    data: new Float32Array([-0, Number.NaN, Number.POSITIVE_INFINITY, 1e-45, 3.4e38]),
  },
  f64: {
    dtype: "F64",
    shape: [1, 5],
    data: new Float64Array([Number.MIN_VALUE, Number.MAX_VALUE, -0, 1 / 3, 1e39]),
  },
  scalar: { dtype: "F32", shape: [], data: new Float32Array([42]) },
  empty: { dtype: "I64", shape: [2, 0, 3], data: new BigInt64Array(0) },
};

function expectKoraError(run: () => unknown, code: string, fragment: string): void {
  try {
    run();
  } catch (error) {
    expect(KoraError.isInstance(error)).toBe(true);
    expect((error as KoraError).code).toBe(code);
    expect((error as KoraError).message).toContain(fragment);
    return;
  }
  expect.fail(`expected a KoraError ${code} mentioning "${fragment}"`);
}

/** A name that would reach `Object.prototype` if it were assigned to an ordinary object. */
const PROTO = "__proto__";

describe("write → read", () => {
  it("round-trips every dtype with exact bits, the native typed array, and the shape", () => {
    const bytes = writeSafetensors(ALL_DTYPES, { note: "all dtypes", "": "empty key", ü: 'ß\n"q"' });
    const { tensors, metadata } = readSafetensors(bytes);
    expect(Object.keys(tensors).sort()).toEqual(Object.keys(ALL_DTYPES).sort());
    for (const [name, input] of Object.entries(ALL_DTYPES)) {
      const output = tensors[name]!;
      expect(output.dtype).toBe(input.dtype);
      expect(output.shape).toEqual(input.shape);
      expect(output.data.constructor).toBe(input.data.constructor);
      expect(bytesOf(output.data)).toEqual(bytesOf(input.data));
      expect("sourceDtype" in output).toBe(false);
    }
    expect({ ...metadata }).toEqual({ note: "all dtypes", "": "empty key", ü: 'ß\n"q"' });
    expect(tensors["i64"]!.data[0]).toBe(-(2n ** 63n));
    expect(tensors["u64"]!.data[1]).toBe(2n ** 64n - 1n);
    expect(writeSafetensors(tensors, metadata)).toEqual(bytes);
  });

  it("returns copies that own their buffer and do not alias the input", () => {
    const bytes = writeSafetensors({ x: { dtype: "F32", shape: [2], data: new Float32Array([1, 2]) } });
    const tensor = readSafetensors(bytes).tensors["x"]!;
    expect(tensor.data.byteOffset).toBe(0);
    expect(tensor.data.buffer.byteLength).toBe(8);
    bytes.fill(0xff);
    expect(Array.from(tensor.data as Float32Array)).toEqual([1, 2]);
  });

  it("reads from a Uint8Array that is a window into a larger, oddly offset buffer", () => {
    const file = writeSafetensors({ x: { dtype: "F64", shape: [2], data: new Float64Array([0.5, -7]) } });
    const backing = new Uint8Array(file.length + 3);
    backing.set(file, 3);
    const tensor = readSafetensors(backing.subarray(3)).tensors["x"]!;
    expect(Array.from(tensor.data as Float64Array)).toEqual([0.5, -7]);
  });

  it("asFloat32 converts F16, BF16 and F64 exactly as IEEE rounding says and leaves other dtypes alone", () => {
    const { tensors } = readSafetensors(writeSafetensors(ALL_DTYPES), { asFloat32: true });
    const f16 = tensors["f16"]!;
    expect(f16.dtype).toBe("F32");
    expect(f16.sourceDtype).toBe("F16");
    expect(f16.shape).toEqual([2, 3]);
    expect(f16.data).toBeInstanceOf(Float32Array);
    const f16Values = Array.from(f16.data as Float32Array);
    expect(f16Values.slice(0, 3)).toEqual([2 ** -24, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
    expect(f16Values[3]).toBeNaN();
    expect(f16Values[4]).toBe(1);
    expect(Object.is(f16Values[5], -0)).toBe(true);

    const bf16 = tensors["bf16"]!;
    expect([bf16.dtype, bf16.sourceDtype]).toEqual(["F32", "BF16"]);
    const bf16Values = Array.from(bf16.data as Float32Array);
    expect(bf16Values[0]).toBe(2 ** -133);
    expect(bf16Values[1]).toBe(Number.POSITIVE_INFINITY);
    expect(bf16Values[2]).toBeNaN();
    expect(bf16Values.slice(3)).toEqual([-3.140625, 1]);

    const f64 = tensors["f64"]!;
    expect([f64.dtype, f64.sourceDtype]).toEqual(["F32", "F64"]);
    // MIN_VALUE underflows to 0, MAX_VALUE and 1e39 overflow to Infinity, 1/3 rounds to nearest float32.
    expect(Array.from(f64.data as Float32Array)).toEqual([0, Infinity, -0, Math.fround(1 / 3), Infinity]);

    expect(tensors["f32"]!.sourceDtype).toBeUndefined();
    expect(tensors["i32"]!.dtype).toBe("I32");
    expect(tensors["i32"]!.data).toBeInstanceOf(Int32Array);
  });

  it("toFloat32 converts integers with round-to-nearest-even and returns a fresh array for F32", () => {
    const convert = (tensor: SafetensorsTensorInput) => Array.from(toFloat32(tensor));
    expect(
      convert({ dtype: "I32", shape: [3], data: new Int32Array([2 ** 24 + 1, 2 ** 24 + 3, -5]) }),
    ).toEqual([2 ** 24, 2 ** 24 + 4, -5]);
    expect(convert(ALL_DTYPES["i64"]!)).toEqual([-(2 ** 63), 2 ** 63, 0, -1]);
    expect(convert(ALL_DTYPES["u64"]!)).toEqual([0, 2 ** 64, 2 ** 53]);
    expect(convert(ALL_DTYPES["bool"]!)).toEqual([1, 0, 1]);
    expect(convert(ALL_DTYPES["i8"]!)).toEqual([-128, 127, -1]);
    const f32 = new Float32Array([1.5]);
    const copy = toFloat32({ dtype: "F32", data: f32 });
    expect(copy).not.toBe(f32);
    expect(Array.from(copy)).toEqual([1.5]);
    expectKoraError(
      () => toFloat32({ dtype: "F16", data: new Float32Array(1) }),
      "INVALID_ARGUMENT",
      "Uint16Array",
    );
  });

  it("keeps a tensor named __proto__ as an ordinary entry without touching prototypes", () => {
    const tensors: Record<string, SafetensorsTensorInput> = Object.create(null);
    tensors[PROTO] = { dtype: "U8", shape: [1], data: new Uint8Array([9]) };
    const read = readSafetensors(writeSafetensors(tensors, JSON.parse('{"__proto__":"meta"}')));
    expect(Object.getPrototypeOf(read.tensors)).toBeNull();
    expect(Object.keys(read.tensors)).toEqual(["__proto__"]);
    expect(read.tensors[PROTO]!.data).toEqual(new Uint8Array([9]));
    expect(read.metadata[PROTO]).toBe("meta");
    expect(({} as Record<string, unknown>)["dtype"]).toBeUndefined();
  });
});

describe("writeSafetensors input validation", () => {
  const f32 = (n: number) => new Float32Array(n);
  it.each([
    ["data length", { x: { dtype: "F32", shape: [2, 3], data: f32(5) } }, "has 6 elements but data has 5"],
    [
      "dtype/array mismatch",
      { x: { dtype: "F32", shape: [1], data: new Float64Array(1) } },
      "needs its data in a Float32Array",
    ],
    [
      "F16 given floats",
      { x: { dtype: "F16", shape: [1], data: f32(1) } },
      "needs its data in a Uint16Array",
    ],
    ["BOOL given Int8Array", { x: { dtype: "BOOL", shape: [1], data: new Int8Array(1) } }, "Uint8Array"],
    [
      "unknown dtype",
      { x: { dtype: "F8_E4M3", shape: [1], data: new Uint8Array(1) } },
      "unknown dtype F8_E4M3",
    ],
    ["negative dimension", { x: { dtype: "F32", shape: [-1], data: f32(0) } }, "non-negative integers"],
    ["fractional dimension", { x: { dtype: "F32", shape: [1.5], data: f32(1) } }, "non-negative integers"],
    ["empty name", { "": { dtype: "F32", shape: [1], data: f32(1) } }, "non-empty"],
    ["reserved name", { __metadata__: { dtype: "F32", shape: [1], data: f32(1) } }, "reserved"],
    ["lone surrogate", { "a\uD800": { dtype: "F32", shape: [1], data: f32(1) } }, "lone UTF-16 surrogate"],
    ["not an object", { x: 3 }, "must be an object"],
  ])("rejects %s", (_label, tensors, fragment) => {
    expectKoraError(
      () => writeSafetensors(tensors as unknown as Record<string, SafetensorsTensorInput>),
      "INVALID_ARGUMENT",
      fragment,
    );
  });

  it("rejects metadata that is not a string map", () => {
    const ok = { x: { dtype: "U8" as const, shape: [1], data: new Uint8Array(1) } };
    expectKoraError(
      () => writeSafetensors(ok, { n: 3 } as unknown as Record<string, string>),
      "INVALID_ARGUMENT",
      "must be a string",
    );
    expectKoraError(
      () => writeSafetensors(ok, ["a"] as unknown as Record<string, string>),
      "INVALID_ARGUMENT",
      "object of strings",
    );
    expectKoraError(() => writeSafetensors(ok, { k: "\uDC00" }), "INVALID_ARGUMENT", "lone UTF-16 surrogate");
  });
});
