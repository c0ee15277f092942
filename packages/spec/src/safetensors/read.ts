import { KoraError } from "../errors";
import type { SpecErrorCode } from "../errors/kora-error";
import { MAX_JSON_DEPTH, scanJsonText } from "../json";
import { hostIsLittleEndian, swapByteOrderInPlace } from "./byte-order";
import { isSafetensorsDtype, type SafetensorsDtype, safetensorsDtypeByteSize, viewAs } from "./dtypes";
import { findDuplicateKey } from "./duplicate-keys";
import { invalidSafetensors } from "./invalid";
import type { SafetensorsContents, SafetensorsTensor } from "./tensor";
import { toFloat32 } from "./to-float32";

/**
 * The largest header `readSafetensors` can be asked to accept, in bytes: the format's own ceiling (the reference
 * implementation refuses larger headers).
 */
export const MAX_SAFETENSORS_HEADER_BYTES = 100_000_000;

/**
 * The largest header `readSafetensors` accepts by default, in bytes (16 MiB). A header holds about 100 bytes per
 * tensor, so real checkpoints stay far below (ViT-B/16: 200 tensors, about 20 kB); 16 MiB still admits some
 * 160 000 tensors. Decoding costs about 0.2 s and 20 MB of memory per MiB of header (measured on a loaded 2-core
 * machine: 16 MiB of header, 164 523 tensors, 2.9 s and 345 MB peak RSS), so the default bounds what a hostile
 * header costs; raise it with {@link ReadSafetensorsOptions.maxHeaderBytes} for a file that needs more.
 */
export const DEFAULT_MAX_SAFETENSORS_HEADER_BYTES = 16 * 1024 * 1024;

/** Options of {@link readSafetensors}. */
export interface ReadSafetensorsOptions {
  /**
   * When true, `F16`, `BF16` and `F64` tensors come back as `dtype: "F32"` with a `Float32Array` (see
   * {@link toFloat32} for the rounding) and `sourceDtype` set to the stored dtype. Other dtypes are unchanged.
   * Default `false`.
   */
  asFloat32?: boolean;
  /**
   * The largest header accepted, in bytes; a larger one is `INVALID_SAFETENSORS` before any of it is decoded.
   * Default {@link DEFAULT_MAX_SAFETENSORS_HEADER_BYTES}; at most {@link MAX_SAFETENSORS_HEADER_BYTES}.
   */
  maxHeaderBytes?: number;
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
 * Total on any input: time and memory are linear in `bytes.length`, the header is capped (`maxHeaderBytes`), JSON
 * nesting deeper than {@link MAX_JSON_DEPTH} is refused before parsing, and every declared shape and offset is
 * checked against the bytes present before anything is allocated.
 *
 * @throws KoraError with code `INVALID_SAFETENSORS` for malformed bytes (the message names the rule and the tensor
 * or field; `path` is set where there is one), `INVALID_ARGUMENT` when `bytes` is not a `Uint8Array` or
 * `maxHeaderBytes` is not an integer in [2, {@link MAX_SAFETENSORS_HEADER_BYTES}].
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
  const maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_SAFETENSORS_HEADER_BYTES;
  if (
    !Number.isSafeInteger(maxHeaderBytes) ||
    maxHeaderBytes < 2 ||
    maxHeaderBytes > MAX_SAFETENSORS_HEADER_BYTES
  ) {
    throw new KoraError<SpecErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `readSafetensors: maxHeaderBytes must be an integer in [2, ${MAX_SAFETENSORS_HEADER_BYTES}], got ${String(maxHeaderBytes)}`,
      path: "maxHeaderBytes",
    });
  }
  const { header, dataStart } = parseHeader(bytes, maxHeaderBytes);
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

function parseHeader(
  bytes: Uint8Array,
  maxHeaderBytes: number,
): { header: Record<string, unknown>; dataStart: number } {
  if (bytes.length < 8) {
    throw invalidSafetensors(`file is ${bytes.length} bytes, shorter than the 8-byte header length prefix`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = view.getBigUint64(0, true);
  if (declared > BigInt(maxHeaderBytes)) {
    throw invalidSafetensors(
      `header length ${declared} exceeds the ${maxHeaderBytes}-byte limit (raise it with the maxHeaderBytes option, up to ${MAX_SAFETENSORS_HEADER_BYTES})`,
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
  // Before parsing: the parsed header is walked and quoted in messages by recursive code (JSON.stringify).
  const problem = scanJsonText(text, { forbidKeys: false });
  if (problem?.kind === "depth") {
    throw invalidSafetensors(
      `header is nested deeper than ${MAX_JSON_DEPTH} levels (at byte ${problem.offset})`,
    );
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
