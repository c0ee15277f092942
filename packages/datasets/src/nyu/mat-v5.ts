import { datasetError } from "../errors";
import { inflateCapped, inflatePrefix } from "../internal/inflate";
import { type DatasetLimits, limitExceeded, resolveDatasetLimits } from "../limits";

/** A numeric MATLAB array read from a level-5 MAT-file. */
export interface MatArray {
  /** MATLAB dimensions (column-major), e.g. `[795, 1]`. */
  dims: number[];
  /** Real part, column-major, converted to float64. */
  data: Float64Array;
}

const MI_MATRIX = 14;
const MI_COMPRESSED = 15;
/** Compressed bytes inflated first to read the tag at the start of a compressed element. */
const COMPRESSED_TAG_PROBE = 1024;
const ELEMENT_BYTES: Record<number, number> = {
  1: 1,
  2: 1,
  3: 2,
  4: 2,
  5: 4,
  6: 4,
  7: 4,
  9: 8,
  12: 8,
  13: 8,
};

/**
 * Reads the numeric variables of a MATLAB level-5 MAT-file (v5/v6/v7, the format of the NYU toolbox's
 * `splits.mat`), including zlib-compressed (`miCOMPRESSED`) elements. Non-numeric variables (cells, structs,
 * chars, sparse) are skipped. MATLAB v7.3 files are HDF5 and not handled here.
 *
 * Every length is checked against the bytes that hold it before it is read, and the compressed elements together
 * may inflate to at most `limits.maxFileBytes`, each to at most `limits.maxInflateRatio` times its compressed
 * size (each inflation stops as soon as it passes what is left).
 *
 * @param limits - overrides of `DEFAULT_DATASET_LIMITS` (`maxFileBytes` and `maxInflateRatio` apply).
 * @throws KoraError `INVALID_DATASET_FILE` naming `source`; `LIMIT_EXCEEDED` when compressed elements inflate
 * past `limits.maxFileBytes` or one declares more than `limits.maxInflateRatio` times its compressed size.
 */
export function readMatV5(
  bytes: Uint8Array,
  source = "MAT-file",
  limits?: Partial<DatasetLimits>,
): Record<string, MatArray> {
  const { maxFileBytes, maxInflateRatio } = resolveDatasetLimits(limits);
  let inflatedBudget = maxFileBytes;
  const fail = (why: string): never => {
    throw datasetError("INVALID_DATASET_FILE", `${source}: ${why}`, source);
  };
  if (bytes.length < 128) fail("too short for a MAT-file header");
  const header = new TextDecoder("latin1").decode(bytes.subarray(0, 116));
  if (header.startsWith("MATLAB 7.3")) fail("a MATLAB v7.3 (HDF5) file; expected a level-5 MAT-file");
  const indicator = String.fromCharCode(bytes[126]!, bytes[127]!);
  if (indicator !== "IM" && indicator !== "MI") fail("not a level-5 MAT-file (no endian indicator)");
  const little = indicator === "IM";
  const out: Record<string, MatArray> = {};
  const walk = (buffer: Uint8Array, start: number, onElement: (type: number, body: Uint8Array) => void) => {
    const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    let offset = start;
    while (offset + 8 <= buffer.length) {
      const first = view.getUint32(offset, little);
      let type: number;
      let size: number;
      let body: Uint8Array;
      if (first >>> 16 !== 0) {
        // Small data element: 2-byte size, 2-byte type, up to 4 bytes of data in the same 8 bytes.
        type = first & 0xffff;
        size = first >>> 16;
        if (size > 4) fail(`small data element at byte ${offset} declares ${size} bytes (at most 4)`);
        body = buffer.subarray(offset + 4, offset + 4 + size);
        offset += 8;
      } else {
        type = first;
        size = view.getUint32(offset + 4, little);
        if (offset + 8 + size > buffer.length) fail(`element at byte ${offset} runs past the end`);
        body = buffer.subarray(offset + 8, offset + 8 + size);
        offset += 8 + (type === MI_COMPRESSED ? size : Math.ceil(size / 8) * 8);
      }
      onElement(type, body);
    }
  };
  const readMatrix = (body: Uint8Array) => {
    const parts: { type: number; body: Uint8Array }[] = [];
    walk(body, 0, (type, part) => parts.push({ type, body: part }));
    const [flags, dims, name, real] = parts;
    if (flags === undefined || dims === undefined || name === undefined) fail("truncated miMATRIX element");
    if (flags!.body.length < 4) fail("miMATRIX array flags shorter than 4 bytes");
    const flagView = new DataView(flags!.body.buffer, flags!.body.byteOffset, flags!.body.byteLength);
    const arrayClass = flagView.getUint32(0, little) & 0xff;
    const isComplexOrSparse = (flagView.getUint32(0, little) & 0x800) !== 0 || arrayClass === 5;
    // Numeric classes: 6 double … 15 uint64 (4 char, 1 cell, 2 struct, 3 object, 5 sparse are skipped).
    if (arrayClass < 6 || arrayClass > 15 || isComplexOrSparse || real === undefined) return;
    const dimView = new DataView(dims!.body.buffer, dims!.body.byteOffset, dims!.body.byteLength);
    const shape: number[] = [];
    for (let k = 0; k + 4 <= dims!.body.length; k += 4) shape.push(dimView.getInt32(k, little));
    const width = ELEMENT_BYTES[real.type];
    if (width === undefined) fail(`unsupported numeric storage type ${real.type}`);
    if (real.body.length % width! !== 0) {
      fail(`numeric data of ${real.body.length} bytes is not a whole number of ${width}-byte elements`);
    }
    const count = real.body.length / width!;
    const realView = new DataView(real.body.buffer, real.body.byteOffset, real.body.byteLength);
    const data = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const at = i * width!;
      switch (real.type) {
        case 1:
          data[i] = realView.getInt8(at);
          break;
        case 2:
          data[i] = realView.getUint8(at);
          break;
        case 3:
          data[i] = realView.getInt16(at, little);
          break;
        case 4:
          data[i] = realView.getUint16(at, little);
          break;
        case 5:
          data[i] = realView.getInt32(at, little);
          break;
        case 6:
          data[i] = realView.getUint32(at, little);
          break;
        case 7:
          data[i] = realView.getFloat32(at, little);
          break;
        case 9:
          data[i] = realView.getFloat64(at, little);
          break;
        case 12:
          data[i] = Number(realView.getBigInt64(at, little));
          break;
        default:
          data[i] = Number(realView.getBigUint64(at, little));
      }
    }
    out[new TextDecoder().decode(name!.body)] = { dims: shape, data };
  };
  // MATLAB compresses top-level variables only: a compressed element inside a compressed one is rejected, so
  // inflation cannot nest.
  const onInflated = (type: number, body: Uint8Array) => {
    if (type === MI_MATRIX) readMatrix(body);
    else if (type === MI_COMPRESSED) fail("a compressed element inside a compressed element");
  };
  const onTop = (type: number, body: Uint8Array) => {
    if (type === MI_MATRIX) {
      readMatrix(body);
    } else if (type === MI_COMPRESSED) {
      // The inflated element starts with its own tag, which declares its size: read it from the first bytes,
      // check it against what is left of the budget, then inflate no more than it (a bomb that declares its size
      // honestly fails here at once; one that lies is stopped just past its claim).
      const head = inflatePrefix("zlib", body, COMPRESSED_TAG_PROBE, source);
      if (head.length < 8) fail("a compressed element too short to hold a data element");
      const headView = new DataView(head.buffer, head.byteOffset, head.byteLength);
      const first = headView.getUint32(0, little);
      const declared = first >>> 16 !== 0 ? 8 : 8 + Math.ceil(headView.getUint32(4, little) / 8) * 8;
      if (declared > inflatedBudget) {
        limitExceeded(
          source,
          "the size a compressed element declares (bytes, with earlier elements)",
          maxFileBytes - inflatedBudget + declared,
          "maxFileBytes",
          maxFileBytes,
        );
      }
      const inflated = inflateCapped("zlib", body, source, "a compressed element", {
        max: inflatedBudget,
        maxRatio: maxInflateRatio,
        limit: "maxFileBytes",
        limitValue: maxFileBytes,
        declared,
        exact: false,
      });
      inflatedBudget -= inflated.length;
      walk(inflated, 0, onInflated);
    }
  };
  walk(bytes, 128, onTop);
  return out;
}
