import { hostIsLittleEndian, swapByteOrderInPlace } from "./byte-order";
import {
  arrayNameOf,
  dtypeRank,
  holdsDtype,
  isSafetensorsDtype,
  type SafetensorsDtype,
  type SafetensorsTypedArray,
  safetensorsDtypeByteSize,
} from "./dtypes";
import { invalidWriteInput } from "./invalid";
import { MAX_SAFETENSORS_HEADER_BYTES } from "./read";
import type { SafetensorsTensorInput } from "./tensor";

interface Checked {
  name: string;
  dtype: SafetensorsDtype;
  shape: readonly number[];
  data: SafetensorsTypedArray;
}

/** Matches a lone UTF-16 surrogate, which JSON cannot carry as UTF-8. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Encodes tensors (and optional string metadata) as a safetensors file, byte for byte as the reference
 * implementation (huggingface/safetensors `serialize`) lays it out:
 *
 * - the data buffer holds tensors sorted by dtype alignment, largest first (`U64`, `I64`, `F64`, `F32`, `U32`,
 *   `I32`, `BF16`, `F16`, `U16`, `I16`, `I8`, `U8`, `BOOL`), then by name in code-point (= UTF-8 byte) order,
 *   packed without gaps;
 * - the compact JSON header lists `__metadata__` first (omitted when `metadata` is absent or empty; its keys are
 *   sorted by code point, where the reference uses unspecified hash-map order), then the tensors in data-buffer
 *   order, each as `{"dtype","shape","data_offsets"}`;
 * - the header is padded with spaces to a multiple of 8 bytes, so the data buffer starts 8-byte aligned.
 *
 * The output therefore depends only on the content, and `writeSafetensors(readSafetensors(x))` reproduces any
 * file this function wrote.
 *
 * @param tensors - Tensors by name. Names must be non-empty, not `__metadata__`, and well-formed Unicode.
 * @param metadata - Free-form string→string map stored under `__metadata__`.
 * @throws KoraError with code `INVALID_ARGUMENT` naming the tensor or key, when a dtype is unknown, `data` is not
 * the typed array its dtype needs, `shape` is not non-negative integers whose product is `data.length`, a name or
 * metadata entry is invalid, or the header would exceed {@link MAX_SAFETENSORS_HEADER_BYTES}.
 */
export function writeSafetensors(
  tensors: Readonly<Record<string, SafetensorsTensorInput>>,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  if (typeof tensors !== "object" || tensors === null) throw invalidWriteInput("tensors must be an object");
  const checked = Object.keys(tensors).map((name) => checkTensor(name, tensors[name]));
  checked.sort((a, b) => dtypeRank(b.dtype) - dtypeRank(a.dtype) || compareCodePoints(a.name, b.name));

  const parts: string[] = [];
  const metadataJson = encodeMetadata(metadata);
  if (metadataJson !== undefined) parts.push(`"__metadata__":${metadataJson}`);
  let offset = 0;
  for (const { name, dtype, shape, data } of checked) {
    const end = offset + data.byteLength;
    parts.push(
      `${JSON.stringify(name)}:{"dtype":"${dtype}","shape":[${shape.join(",")}],"data_offsets":[${offset},${end}]}`,
    );
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(",")}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  if (headerLength > MAX_SAFETENSORS_HEADER_BYTES) {
    throw invalidWriteInput(
      `the header would be ${headerLength} bytes, over the ${MAX_SAFETENSORS_HEADER_BYTES}-byte limit`,
    );
  }

  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let position = 8 + headerLength;
  for (const { dtype, data } of checked) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), position);
    if (!hostIsLittleEndian) {
      swapByteOrderInPlace(
        out.subarray(position, position + data.byteLength),
        safetensorsDtypeByteSize(dtype),
      );
    }
    position += data.byteLength;
  }
  return out;
}

function checkTensor(name: string, tensor: SafetensorsTensorInput | undefined): Checked {
  const fail = (rule: string, field?: string) =>
    invalidWriteInput(`tensor "${name}": ${rule}`, field === undefined ? name : `${name}.${field}`);
  if (name === "") throw invalidWriteInput("tensor names must be non-empty", "");
  if (name === "__metadata__") throw fail("the name __metadata__ is reserved for the metadata map");
  if (LONE_SURROGATE.test(name)) throw fail("name contains a lone UTF-16 surrogate");
  if (typeof tensor !== "object" || tensor === null) throw fail("must be an object { dtype, shape, data }");
  const { dtype, shape, data } = tensor;
  if (!isSafetensorsDtype(dtype)) throw fail(`unknown dtype ${String(dtype)}`, "dtype");
  if (!holdsDtype(data, dtype))
    throw fail(`a ${dtype} tensor needs its data in a ${arrayNameOf(dtype)}`, "data");
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw fail("shape must be an array of non-negative integers", "shape");
  }
  const elements = shape.reduce((product: number, dimension: number) => product * dimension, 1);
  if (elements !== data.length) {
    throw fail(`shape [${shape.join(", ")}] has ${elements} elements but data has ${data.length}`, "shape");
  }
  // `-0` would print as "0" anyway; normalising keeps the checked shape exactly what is written.
  return { name, dtype, shape: shape.map((d: number) => d + 0), data };
}

function encodeMetadata(metadata: Readonly<Record<string, string>> | undefined): string | undefined {
  if (metadata === undefined) return undefined;
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
    throw invalidWriteInput("metadata must be an object of strings", "__metadata__");
  }
  const keys = Object.keys(metadata).sort(compareCodePoints);
  if (keys.length === 0) return undefined;
  const entries = keys.map((key) => {
    const value: unknown = metadata[key];
    if (typeof value !== "string") {
      throw invalidWriteInput(
        `metadata value "${key}" must be a string, got ${typeof value}`,
        `__metadata__.${key}`,
      );
    }
    if (LONE_SURROGATE.test(key) || LONE_SURROGATE.test(value)) {
      throw invalidWriteInput(
        `metadata entry "${key}" contains a lone UTF-16 surrogate`,
        `__metadata__.${key}`,
      );
    }
    return `${JSON.stringify(key)}:${JSON.stringify(value)}`;
  });
  return `{${entries.join(",")}}`;
}

/** Orders strings by Unicode code point (the order of their UTF-8 bytes, as Rust's `str` compares). */
function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointOrderKey(x) - codePointOrderKey(y);
  }
  return a.length - b.length;
}

/** Moves surrogates (which encode code points above U+FFFF) after U+E000–U+FFFF, keeping other units in place. */
function codePointOrderKey(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}
