import { KoraError } from "../errors";
import type { SpecErrorCode } from "../errors/kora-error";
import { hostIsLittleEndian, swapByteOrderInPlace } from "./byte-order";
import { isSafetensorsDtype, type SafetensorsDtype, safetensorsDtypeByteSize, viewAs } from "./dtypes";
import { findDuplicateKey } from "./duplicate-keys";
import { invalidSafetensors } from "./invalid";
import type { SafetensorsContents, SafetensorsTensor } from "./tensor";
import { toFloat32 } from "./to-float32";

/** The largest header `readSafetensors` accepts, in bytes (the reference implementation's limit). */
export const MAX_SAFETENSORS_HEADER_BYTES = 100_000_000;

/** Options of {@link readSafetensors}. */
export interface ReadSafetensorsOptions {
  /**
   * When true, `F16`, `BF16` and `F64` tensors come back as `dtype: "F32"` with a `Float32Array` (see
   * {@link toFloat32} for the rounding) and `sourceDtype` set to the stored dtype. Other dtypes are unchanged.
   * Default `false`.
   */
  asFloat32?: boolean;
}

interface Entry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

const ENTRY_FIELDS = ["data_offsets", "dtype", "shape"];

/**
 * Decodes a safetensors file held in memory, validating every rule of the format.
 *
 * Each tensor's data is copied into a fresh, aligned buffer (so tensors at offsets that are not a multiple of
 * their element size read correctly, and no result aliases `bytes`).
 *
 * @throws KoraError with code `INVALID_SAFETENSORS` for malformed bytes (the message names the rule and the tensor
 * or field; `path` is set where there is one), `INVALID_ARGUMENT` when `bytes` is not a `Uint8Array`.
 * @see https://github.com/huggingface/safetensors#format
 */
export function readSafetensors(
  bytes: Uint8Array,
  options: ReadSafetensorsOptions = {},
): SafetensorsContents {
  if (!ArrayBuffer.isView(bytes) || bytes[Symbol.toStringTag] !== "Uint8Array") {
    throw new KoraError<SpecErrorCode>({
      code: "INVALID_ARGUMENT",
      message: "readSafetensors: bytes must be a Uint8Array",
    });
  }
  const { header, dataStart } = parseHeader(bytes);
  const dataLength = bytes.length - dataStart;
  const metadata = readMetadata(header["__metadata__"]);
  const entries: Entry[] = [];
  for (const name of Object.keys(header)) {
    if (name !== "__metadata__") entries.push(readEntry(name, header[name]));
  }
  checkTiling(entries, dataLength);

  const tensors: Record<string, SafetensorsTensor> = Object.create(null);
  for (const { name, dtype, shape, begin, end } of entries) {
    const size = safetensorsDtypeByteSize(dtype);
    const copy = bytes.slice(dataStart + begin, dataStart + end);
    if (!hostIsLittleEndian) swapByteOrderInPlace(copy, size);
    const data = viewAs(dtype, copy.buffer, (end - begin) / size);
    if (options.asFloat32 === true && (dtype === "F16" || dtype === "BF16" || dtype === "F64")) {
      tensors[name] = { dtype: "F32", shape, data: toFloat32({ dtype, data }), sourceDtype: dtype };
    } else {
      tensors[name] = { dtype, shape, data };
    }
  }
  return { tensors, metadata };
}

function parseHeader(bytes: Uint8Array): { header: Record<string, unknown>; dataStart: number } {
  if (bytes.length < 8) {
    throw invalidSafetensors(`file is ${bytes.length} bytes, shorter than the 8-byte header length prefix`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = view.getBigUint64(0, true);
  if (declared > BigInt(MAX_SAFETENSORS_HEADER_BYTES)) {
    throw invalidSafetensors(
      `header length ${declared} exceeds the ${MAX_SAFETENSORS_HEADER_BYTES}-byte limit`,
    );
  }
  const length = Number(declared);
  if (length > bytes.length - 8) {
    throw invalidSafetensors(
      `header length ${length} exceeds the ${bytes.length - 8} bytes after the prefix`,
    );
  }
  if (bytes[8] !== 0x7b) throw invalidSafetensors("header must start with '{'");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + length));
  } catch (cause) {
    throw invalidSafetensors("header is not valid UTF-8", undefined, cause);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw invalidSafetensors(`header is not valid JSON (${(cause as Error).message})`, undefined, cause);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw invalidSafetensors("header must be a JSON object");
  }
  const duplicate = findDuplicateKey(text);
  if (duplicate !== undefined) {
    const where = duplicate.parent === undefined ? "tensor name" : `key in "${duplicate.parent}":`;
    throw invalidSafetensors(
      `duplicate ${where} "${duplicate.key}" in header`,
      duplicate.parent ?? duplicate.key,
    );
  }
  return { header: parsed as Record<string, unknown>, dataStart: 8 + length };
}

function readMetadata(value: unknown): Record<string, string> {
  const metadata: Record<string, string> = Object.create(null);
  if (value === undefined) return metadata;
  if (!isPlainObject(value)) {
    throw invalidSafetensors(
      `__metadata__ must be an object of strings, got ${describe(value)}`,
      "__metadata__",
    );
  }
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== "string") {
      throw invalidSafetensors(
        `__metadata__ values must be strings, but "${key}" is ${describe(item)}`,
        `__metadata__.${key}`,
      );
    }
    metadata[key] = item;
  }
  return metadata;
}

function readEntry(name: string, value: unknown): Entry {
  const fail = (rule: string, field?: string) =>
    invalidSafetensors(`tensor "${name}": ${rule}`, field === undefined ? name : `${name}.${field}`);
  if (!isPlainObject(value)) throw fail(`entry must be an object, got ${describe(value)}`);
  const fields = Object.keys(value).sort();
  if (fields.length !== 3 || fields.some((field, i) => field !== ENTRY_FIELDS[i])) {
    throw fail(`entry must have exactly the fields dtype, shape, data_offsets, got ${fields.join(", ")}`);
  }
  const { dtype, shape, data_offsets: offsets } = value;
  if (!isSafetensorsDtype(dtype)) throw fail(`unknown or unsupported dtype ${describe(dtype)}`, "dtype");
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) {
    throw fail(`shape must be an array of non-negative integers, got ${describe(shape)}`, "shape");
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInteger)) {
    throw fail(
      `data_offsets must be [begin, end] of non-negative integers, got ${describe(offsets)}`,
      "data_offsets",
    );
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) throw fail(`data_offsets begin ${begin} is after end ${end}`, "data_offsets");
  const elements = elementCount(shape as number[]);
  if (elements === undefined) throw fail(`shape ${describe(shape)} has too many elements`, "shape");
  const byteSize = elements * safetensorsDtypeByteSize(dtype);
  if (end - begin !== byteSize) {
    throw fail(
      `data_offsets [${begin}, ${end}] span ${end - begin} bytes but shape ${describe(shape)} of ${dtype} needs ${byteSize}`,
      "data_offsets",
    );
  }
  return { name, dtype, shape: [...(shape as number[])], begin, end };
}

/** The product of `shape`, or `undefined` when it is not a safe integer. */
function elementCount(shape: number[]): number | undefined {
  if (shape.includes(0)) return 0;
  let product = 1;
  for (const dimension of shape) {
    product *= dimension;
    if (product > Number.MAX_SAFE_INTEGER) return undefined;
  }
  return product;
}

function checkTiling(entries: Entry[], dataLength: number): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let previous: Entry | undefined;
  for (const entry of sorted) {
    const expected = previous?.end ?? 0;
    if (entry.begin !== expected) {
      const rule =
        previous === undefined
          ? `the first tensor in the data buffer must start at offset 0, but "${entry.name}" starts at ${entry.begin}`
          : entry.begin > expected
            ? `gap in the data buffer: "${entry.name}" starts at ${entry.begin} but "${previous.name}" ends at ${expected}`
            : `overlap in the data buffer: "${entry.name}" starts at ${entry.begin} before "${previous.name}" ends at ${expected}`;
      throw invalidSafetensors(rule, `${entry.name}.data_offsets`);
    }
    previous = entry;
  }
  const covered = previous?.end ?? 0;
  if (covered < dataLength) {
    throw invalidSafetensors(`${dataLength - covered} trailing bytes after the last tensor's data`);
  }
  if (covered > dataLength) {
    throw invalidSafetensors(
      `tensor "${previous!.name}" ends at offset ${covered}, beyond the ${dataLength}-byte data buffer`,
      `${previous!.name}.data_offsets`,
    );
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/** A short JSON rendering of `value` for messages. */
function describe(value: unknown): string {
  const text = value === undefined ? "undefined" : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
