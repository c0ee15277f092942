import { KoraError } from "../errors";
import type { SpecErrorCode } from "../errors/kora-error";
import { float16BitsToFloat32 } from "../safetensors/float-conversion";

/** A tensor read from a `.npy` file: C-order data and its shape. */
export interface NpyArray {
  /** NumPy dtype descriptor as stored, e.g. `"<f4"`. */
  descr: string;
  /** Shape (empty for a scalar). */
  shape: number[];
  /** Values in C (row-major) order; float64 and integer types come back as Float64Array. */
  data: Float32Array | Float64Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/**
 * The longest `.npy` header `readNpy` reads, in bytes: numpy's own default (`np.load(max_header_size=10000)`),
 * which refuses longer headers as a denial-of-service risk. A header numpy writes for a numeric array is 118 to
 * about 1 500 bytes.
 */
export const MAX_NPY_HEADER_BYTES = 10_000;

/** The most dimensions `readNpy` reads: numpy 2's `NPY_MAXDIMS` (numpy 1 allowed 32). */
export const MAX_NPY_DIMENSIONS = 64;

function invalid(file: string, message: string): KoraError {
  return new KoraError<SpecErrorCode>({ code: "INVALID_NPY", message: `${file}: ${message}` });
}

/** Reads little-endian (or single-byte) numeric data of `descr` into a float array. */
function decode(bytes: Uint8Array, descr: string, count: number, file: string): Float32Array | Float64Array {
  const order = descr[0];
  const kind = descr.slice(1);
  if (order === ">" && !kind.endsWith("1")) {
    throw invalid(file, `big-endian dtype "${descr}" is not supported (save with arr.astype("<f4"))`);
  }
  if (!/^(f[248]|[iu][1248]|b1)$/.test(kind))
    throw invalid(file, `dtype "${descr}" is not supported (numbers only)`);
  const size = Number(kind.slice(1));
  if (bytes.byteLength < count * size) {
    throw invalid(file, `holds ${bytes.byteLength} data bytes, its header promises ${count * size}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, count * size);
  const out = kind === "f4" || kind === "f2" ? new Float32Array(count) : new Float64Array(count);
  const read: ((offset: number) => number) | undefined = {
    f2: (o: number) => float16BitsToFloat32(view.getUint16(o, true)),
    f4: (o: number) => view.getFloat32(o, true),
    f8: (o: number) => view.getFloat64(o, true),
    i1: (o: number) => view.getInt8(o),
    u1: (o: number) => view.getUint8(o),
    b1: (o: number) => view.getUint8(o),
    i2: (o: number) => view.getInt16(o, true),
    u2: (o: number) => view.getUint16(o, true),
    i4: (o: number) => view.getInt32(o, true),
    u4: (o: number) => view.getUint32(o, true),
    i8: (o: number) => Number(view.getBigInt64(o, true)),
    u8: (o: number) => Number(view.getBigUint64(o, true)),
  }[kind];
  if (read === undefined) throw invalid(file, `dtype "${descr}" is not supported (numbers only)`);
  for (let i = 0; i < count; i++) out[i] = read(i * size);
  return out;
}

/** Reorders Fortran-order (column-major) data to C order. */
function toCOrder<T extends Float32Array | Float64Array>(data: T, shape: readonly number[]): T {
  if (shape.length < 2) return data;
  const out = new (data.constructor as new (n: number) => T)(data.length);
  // Computed as running products: the per-axis slice-and-reduce this replaces was quadratic in the rank.
  const fStrides: number[] = [];
  let stride = 1;
  for (const dimension of shape) {
    fStrides.push(stride);
    stride *= dimension;
  }
  const index = new Array<number>(shape.length).fill(0);
  for (let c = 0; c < data.length; c++) {
    let f = 0;
    for (let axis = 0; axis < shape.length; axis++) f += index[axis]! * fStrides[axis]!;
    out[c] = data[f]!;
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      index[axis]!++;
      if (index[axis]! < shape[axis]!) break;
      index[axis] = 0;
    }
  }
  return out;
}

/**
 * Reads a NumPy `.npy` file (format versions 1–3; little-endian float, int, uint and bool dtypes; C or Fortran
 * order), e.g. features saved with `np.save` for `kora cka`. `file` names the source in error messages.
 *
 * Total on any input, in time linear in `bytes.length`: the header is capped at {@link MAX_NPY_HEADER_BYTES}, the
 * rank at {@link MAX_NPY_DIMENSIONS}, and the declared element count is checked against the bytes present before
 * the output is allocated.
 *
 * @throws KoraError `INVALID_NPY` naming the file and what is wrong.
 */
export function readNpy(bytes: Uint8Array, file = "array.npy"): NpyArray {
  if (bytes.byteLength < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw invalid(file, "not a .npy file (no \\x93NUMPY magic)");
  }
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.byteLength < 12) throw invalid(file, "truncated header");
    headerLength = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw invalid(file, `unsupported .npy format version ${major}`);
  }
  if (headerLength > MAX_NPY_HEADER_BYTES) {
    throw invalid(
      file,
      `header of ${headerLength} bytes is longer than ${MAX_NPY_HEADER_BYTES} (numpy's own limit for np.load)`,
    );
  }
  if (headerStart + headerLength > bytes.byteLength) throw invalid(file, "truncated header");
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(
    bytes.subarray(headerStart, headerStart + headerLength),
  );
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw invalid(file, `cannot read the header ${JSON.stringify(header.trim())}`);
  }
  const dims = shapeText
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (dims.length > MAX_NPY_DIMENSIONS) {
    throw invalid(
      file,
      `shape has ${dims.length} dimensions; this reader takes at most ${MAX_NPY_DIMENSIONS}`,
    );
  }
  // numpy writes plain decimal integers; Number() alone would also take "1e3", "0x10" or "1.0".
  if (!dims.every((d) => /^\d{1,16}$/.test(d))) throw invalid(file, `bad shape (${shapeText})`);
  const shape = dims.map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count)) throw invalid(file, `shape (${shapeText}) has too many elements`);
  const raw = decode(bytes.subarray(headerStart + headerLength), descr, count, file);
  return { descr, shape, data: fortran === "True" ? toCOrder(raw, shape) : raw };
}
