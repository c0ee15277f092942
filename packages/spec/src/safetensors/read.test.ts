import { describe, expect, it } from "vitest";
import { KoraError } from "../errors";
import { readSafetensors } from "./read";

/** Builds a file by hand: 8-byte length (the header's, unless `declared` is given), header bytes, data bytes. */
function file(header: string | Uint8Array, data: Uint8Array | number = 0, declared?: bigint): Uint8Array {
  const head = typeof header === "string" ? new TextEncoder().encode(header) : header;
  const body = typeof data === "number" ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + head.length + body.length);
  new DataView(out.buffer).setBigUint64(0, declared ?? BigInt(head.length), true);
  out.set(head, 8);
  out.set(body, 8 + head.length);
  return out;
}

const entry = (dtype: string, shape: number[], begin: number, end: number) =>
  JSON.stringify({ dtype, shape, data_offsets: [begin, end] });

function expectInvalid(bytes: Uint8Array, fragment: string, path?: string): void {
  try {
    readSafetensors(bytes);
  } catch (error) {
    expect(KoraError.isInstance(error)).toBe(true);
    expect((error as KoraError).code).toBe("INVALID_SAFETENSORS");
    expect((error as KoraError).message).toContain(fragment);
    if (path !== undefined) expect((error as KoraError).path).toBe(path);
    return;
  }
  expect.fail(`expected INVALID_SAFETENSORS mentioning "${fragment}"`);
}

/** A name that would reach `Object.prototype` if it were assigned to an ordinary object. */
const PROTO = "__proto__";

describe("readSafetensors accepts", () => {
  it("tensors at offsets that are not a multiple of their element size", () => {
    const data = new Uint8Array(3 + 8 + 16);
    const view = new DataView(data.buffer);
    data.set([7, 8, 9], 0);
    view.setFloat32(3, 1.25, true);
    view.setFloat32(7, -2.5e-3, true);
    view.setFloat64(11, Math.PI, true);
    view.setFloat64(19, -1e300, true);
    const header = `{"bytes":${entry("U8", [3], 0, 3)},"f":${entry("F32", [2], 3, 11)},"d":${entry("F64", [2], 11, 27)}}`;
    const { tensors } = readSafetensors(file(header, data));
    expect(Array.from(tensors["bytes"]!.data as Uint8Array)).toEqual([7, 8, 9]);
    expect(Array.from(tensors["f"]!.data as Float32Array)).toEqual([1.25, Math.fround(-2.5e-3)]);
    expect(Array.from(tensors["d"]!.data as Float64Array)).toEqual([Math.PI, -1e300]);
  });

  it("zero-size tensors anywhere, including at offset 0 and at the end, and headers in any key order", () => {
    const header =
      `{"z0":${entry("F32", [0], 0, 0)},"a":${entry("I16", [2], 0, 4)},"zmid":${entry("F64", [3, 0], 4, 4)},` +
      `"b":{"shape":[1],"data_offsets":[4,5],"dtype":"I8"},"zend":${entry("BOOL", [0, 0], 5, 5)}}`;
    const { tensors } = readSafetensors(file(header, new Uint8Array([1, 0, 255, 255, 0x80])));
    expect(tensors["zmid"]!.data).toEqual(new Float64Array(0));
    expect(tensors["zmid"]!.shape).toEqual([3, 0]);
    expect(Array.from(tensors["a"]!.data as Int16Array)).toEqual([1, -1]);
    expect(Array.from(tensors["b"]!.data as Int8Array)).toEqual([-128]);
    expect(Object.keys(tensors)).toHaveLength(5);
  });

  it("an empty file `{}` with trailing whitespace padding, and no tensors", () => {
    const { tensors, metadata } = readSafetensors(file("{}      "));
    expect(Object.keys(tensors)).toEqual([]);
    expect(Object.keys(metadata)).toEqual([]);
    expect(Object.keys(readSafetensors(file('{"__metadata__":{}} \n\t')).tensors)).toEqual([]);
  });

  it("a tensor named __proto__ without polluting any prototype", () => {
    const { tensors } = readSafetensors(file(`{"__proto__":${entry("U8", [1], 0, 1)}}`, new Uint8Array([5])));
    expect(Object.getPrototypeOf(tensors)).toBeNull();
    expect(tensors[PROTO]!.dtype).toBe("U8");
    expect(({} as Record<string, unknown>)["dtype"]).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty("shape");
  });
});

describe("readSafetensors rejects", () => {
  it("a file shorter than 8 bytes", () => {
    expectInvalid(new Uint8Array(7), "shorter than the 8-byte header length prefix");
    expectInvalid(new Uint8Array(0), "file is 0 bytes");
  });

  it("a header length over the limit (16 MiB by default), even when it does not fit in a double", () => {
    expectInvalid(file("{}", 0, 16n * 1024n * 1024n + 1n), "exceeds the 16777216-byte limit");
    expectInvalid(
      file("{}", 0, 2n ** 64n - 1n),
      "header length 18446744073709551615 exceeds the 16777216-byte",
    );
    const error = (() => {
      try {
        readSafetensors(file("{}", 0, 100_000_001n), { maxHeaderBytes: 100_000_000 });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message).toContain("exceeds the 100000000-byte limit");
  });

  it("a header length beyond the end of the file", () => {
    expectInvalid(file("{}", 0, 3n), "header length 3 exceeds the 2 bytes after the prefix");
  });

  it("a header that is not valid UTF-8", () => {
    expectInvalid(file(new Uint8Array([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d])), "not valid UTF-8");
  });

  it("a header that does not start with '{' (leading space, byte-order mark, empty header)", () => {
    expectInvalid(file(" {}"), "must start with '{'");
    expectInvalid(file(new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d])), "must start with '{'");
    expectInvalid(file(""), "must start with '{'");
  });

  it("a header that is not JSON, or has anything but whitespace after the object", () => {
    expectInvalid(file('{"a":'), "not valid JSON");
    expectInvalid(file("{}\0\0"), "not valid JSON");
    expectInvalid(file("{} x"), "not valid JSON");
  });

  it("__metadata__ that is not an object of strings", () => {
    expectInvalid(
      file('{"__metadata__":["a"]}'),
      "__metadata__ must be an object of strings",
      "__metadata__",
    );
    expectInvalid(file('{"__metadata__":null}'), "__metadata__ must be an object of strings");
    expectInvalid(file('{"__metadata__":{"epochs":3}}'), '"epochs" is 3', "__metadata__.epochs");
    expectInvalid(file('{"__metadata__":{"nested":{"a":"b"}}}'), "values must be strings");
  });

  it("a tensor entry that is not an object", () => {
    expectInvalid(file('{"w":[1,2]}'), 'tensor "w": entry must be an object', "w");
  });

  it("a tensor entry with missing or extra fields", () => {
    expectInvalid(
      file('{"w":{"dtype":"U8","shape":[1]}}', 1),
      "exactly the fields dtype, shape, data_offsets",
    );
    expectInvalid(
      file(`{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"offsets":[0,1]}}`, 1),
      "got data_offsets, dtype, offsets, shape",
    );
  });

  it("an unknown or unsupported dtype", () => {
    expectInvalid(
      file(`{"w":${entry("f32", [1], 0, 4)}}`, 4),
      'unknown or unsupported dtype "f32"',
      "w.dtype",
    );
    expectInvalid(file(`{"w":${entry("F8_E4M3", [1], 0, 1)}}`, 1), "F8_E4M3");
    expectInvalid(file('{"w":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}', 4), "dtype 4");
  });

  it("a shape that is not an array of non-negative safe integers", () => {
    expectInvalid(
      file(`{"w":${entry("U8", [-1], 0, 0)}}`),
      "shape must be an array of non-negative integers",
      "w.shape",
    );
    expectInvalid(file(`{"w":${entry("U8", [1.5], 0, 0)}}`), "non-negative integers, got [1.5]");
    expectInvalid(file('{"w":{"dtype":"U8","shape":"1","data_offsets":[0,1]}}', 1), "shape must be an array");
    expectInvalid(
      file('{"w":{"dtype":"U8","shape":[9007199254740993],"data_offsets":[0,1]}}', 1),
      "shape must",
    );
    expectInvalid(file(`{"w":${entry("U8", [2 ** 30, 2 ** 30, 2 ** 30], 0, 0)}}`), "too many elements");
  });

  it("data_offsets that are not [begin, end] integers with begin <= end", () => {
    expectInvalid(
      file(`{"w":{"dtype":"U8","shape":[1],"data_offsets":[0]}}`, 1),
      "data_offsets must be [begin, end]",
    );
    expectInvalid(file(`{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}}`, 1), "data_offsets must be");
    expectInvalid(file(`{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,"1"]}}`, 1), "data_offsets must be");
    expectInvalid(file(`{"w":{"dtype":"U8","shape":[1],"data_offsets":[-1,0]}}`, 1), "data_offsets must be");
    expectInvalid(
      file(`{"w":{"dtype":"U8","shape":[0],"data_offsets":[0,1e300]}}`, 1),
      "data_offsets must be",
    );
    expectInvalid(file(`{"w":${entry("U8", [0], 1, 0)}}`, 1), "begin 1 is after end 0", "w.data_offsets");
  });

  it("a byte span that is not product(shape) × element size", () => {
    expectInvalid(
      file(`{"w":${entry("F32", [2, 3], 0, 20)}}`, 20),
      'tensor "w": data_offsets [0, 20] span 20 bytes but shape [2,3] of F32 needs 24',
    );
    expectInvalid(file(`{"w":${entry("BOOL", [4], 0, 32)}}`, 32), "of BOOL needs 4");
  });

  it("data that does not start at offset 0", () => {
    expectInvalid(file(`{"w":${entry("U8", [1], 1, 2)}}`, 2), 'must start at offset 0, but "w" starts at 1');
  });

  it("a gap between tensors", () => {
    const header = `{"a":${entry("U8", [1], 0, 1)},"b":${entry("U8", [1], 2, 3)}}`;
    expectInvalid(
      file(header, 3),
      'gap in the data buffer: "b" starts at 2 but "a" ends at 1',
      "b.data_offsets",
    );
  });

  it("overlapping tensors, including a zero-size tensor inside another", () => {
    const header = `{"a":${entry("U8", [2], 0, 2)},"b":${entry("U8", [2], 1, 3)}}`;
    expectInvalid(file(header, 3), 'overlap in the data buffer: "b" starts at 1 before "a" ends at 2');
    const inside = `{"a":${entry("U8", [2], 0, 2)},"z":${entry("U8", [0], 1, 1)}}`;
    expectInvalid(file(inside, 2), "overlap");
  });

  it("bytes after the last tensor", () => {
    expectInvalid(file(`{"a":${entry("U8", [1], 0, 1)}}`, 3), "2 trailing bytes after the last tensor");
    expectInvalid(file("{}", 1), "1 trailing bytes");
  });

  it("a tensor that ends beyond the data buffer", () => {
    expectInvalid(
      file(`{"a":${entry("U8", [4], 0, 4)}}`, 3),
      'tensor "a" ends at offset 4, beyond the 3-byte data',
    );
  });

  it("duplicate tensor names, however they are spelled", () => {
    const a = entry("U8", [0], 0, 0);
    expectInvalid(file(`{"w":${a},"x":${a},"w":${a}}`), 'duplicate tensor name "w"', "w");
    expectInvalid(file(`{"a":${a},"\\u0061":${a}}`), 'duplicate tensor name "a"');
    expectInvalid(file(`{"__metadata__":{},"__metadata__":{}}`), 'duplicate tensor name "__metadata__"');
  });

  it("duplicate keys inside an entry or the metadata", () => {
    expectInvalid(
      file('{"w":{"dtype":"U8","dtype":"U8","shape":[0],"data_offsets":[0,0]}}'),
      'duplicate key in "w": "dtype"',
    );
    expectInvalid(file('{"__metadata__":{"k":"1","k":"2"}}'), 'duplicate key in "__metadata__": "k"');
  });

  it("a non-Uint8Array argument, as INVALID_ARGUMENT", () => {
    try {
      readSafetensors(new ArrayBuffer(16) as unknown as Uint8Array);
      expect.fail("expected a KoraError");
    } catch (error) {
      expect(KoraError.isInstance(error) && error.code).toBe("INVALID_ARGUMENT");
    }
  });
});
