import { datasetError } from "../errors";

/** Element types of the IDX format (the third byte of the magic number). */
export type IdxDataType = "uint8" | "int8" | "int16" | "int32" | "float32" | "float64";

/** A decoded IDX file: an n-dimensional array in C order. */
export interface IdxArray {
  /** Element type. */
  dtype: IdxDataType;
  /** Dimensions, outermost first (`[60000, 28, 28]` for MNIST training images). */
  shape: number[];
  /** Elements in C order, converted from big-endian to the platform's typed array. */
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

const TYPES: Record<number, { dtype: IdxDataType; bytes: number }> = {
  8: { dtype: "uint8", bytes: 1 },
  9: { dtype: "int8", bytes: 1 },
  11: { dtype: "int16", bytes: 2 },
  12: { dtype: "int32", bytes: 4 },
  13: { dtype: "float32", bytes: 4 },
  14: { dtype: "float64", bytes: 8 },
};

/** @internal An IDX header: element type, shape, and the file size it implies. */
export interface IdxHeader {
  dtype: IdxDataType;
  /** Bytes per element. */
  width: number;
  shape: number[];
  /** Number of elements (may be huge, or `Infinity`, for a hostile header: compare before allocating). */
  count: number;
  headerBytes: number;
  /** Header plus data bytes the header implies. */
  expectedBytes: number;
}

/**
 * @internal Reads the IDX header at the start of `bytes` (which may be just a prefix of the file).
 *
 * @throws KoraError `INVALID_DATASET_FILE` for a bad magic number or a truncated header.
 */
export function readIdxHeader(bytes: Uint8Array, source: string): IdxHeader {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw datasetError(
      "INVALID_DATASET_FILE",
      `${source}: not an IDX file (the magic number must start with two zero bytes)`,
      source,
    );
  }
  const type = TYPES[bytes[2]!];
  const dims = bytes[3]!;
  if (type === undefined || dims === 0) {
    throw datasetError(
      "INVALID_DATASET_FILE",
      `${source}: unsupported IDX magic 0x${((bytes[2]! << 8) | dims).toString(16).padStart(8, "0")}`,
      source,
    );
  }
  const headerBytes = 4 + 4 * dims;
  if (bytes.length < headerBytes) {
    throw datasetError("INVALID_DATASET_FILE", `${source}: truncated IDX header`, source);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  let count = 1;
  for (let d = 0; d < dims; d++) {
    const size = view.getUint32(4 + 4 * d, false);
    shape.push(size);
    count *= size;
  }
  return {
    dtype: type.dtype,
    width: type.bytes,
    shape,
    count,
    headerBytes,
    expectedBytes: headerBytes + count * type.bytes,
  };
}

/**
 * Decodes an (uncompressed) IDX file, the format of MNIST and Fashion-MNIST: magic `0x0000TTDD` (type T,
 * D dimensions; 2051 = uint8 × 3 dims for images, 2049 = uint8 × 1 dim for labels), D big-endian uint32 sizes,
 * then the data, big-endian.
 *
 * @param bytes - the file's bytes (gunzip `.gz` files first; {@link readIdxFile} does that).
 * @param source - a name for error messages (usually the file path).
 * @throws KoraError `INVALID_DATASET_FILE` for a bad magic number or a size that does not match the header.
 */
export function parseIdx(bytes: Uint8Array, source = "IDX data"): IdxArray {
  const { dtype, width, shape, count, headerBytes, expectedBytes: expected } = readIdxHeader(bytes, source);
  // Checked before allocating: a header declaring 2^32 × 2^32 elements fails here, in constant time.
  if (bytes.length !== expected) {
    throw datasetError(
      "INVALID_DATASET_FILE",
      `${source}: IDX header says shape [${shape.join(", ")}] (${expected} bytes) but the data is ${bytes.length} bytes`,
      source,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = { dtype, bytes: width };
  const body = bytes.subarray(headerBytes);
  let data: IdxArray["data"];
  switch (type.dtype) {
    case "uint8":
      data = body.slice();
      break;
    case "int8":
      data = new Int8Array(body.slice().buffer);
      break;
    default: {
      const out =
        type.dtype === "int16"
          ? new Int16Array(count)
          : type.dtype === "int32"
            ? new Int32Array(count)
            : type.dtype === "float32"
              ? new Float32Array(count)
              : new Float64Array(count);
      for (let i = 0; i < count; i++) {
        const offset = headerBytes + i * type.bytes;
        out[i] =
          type.dtype === "int16"
            ? view.getInt16(offset, false)
            : type.dtype === "int32"
              ? view.getInt32(offset, false)
              : type.dtype === "float32"
                ? view.getFloat32(offset, false)
                : view.getFloat64(offset, false);
      }
      data = out;
    }
  }
  return { dtype: type.dtype, shape, data };
}
