import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import type { Matrix } from "@kora/metrics";
import { KoraError, readNpy } from "@kora/spec";

/**
 * Writes per-block features as one float32 `.npy` array `[blocks, rows, cols]` (numpy reads it with `np.load`),
 * atomically: a temporary file renamed into place, so a reader never sees half a file and two processes writing the
 * same features leave one whole copy.
 */
export function writeFeatures(path: string, features: readonly Matrix[]): void {
  const blocks = features.length;
  const rows = features[0]?.rows ?? 0;
  const cols = features[0]?.cols ?? 0;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${blocks}, ${rows}, ${cols}), }`;
  // Version 1.0: magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64 and
  // ended by a newline, as numpy writes it.
  const unpadded = 10 + header.length + 1;
  header = header + " ".repeat((64 - (unpadded % 64)) % 64) + "\n";
  const bytes = new Uint8Array(10 + header.length + 4 * blocks * rows * cols);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(bytes.buffer).setUint16(8, header.length, true);
  bytes.set(new TextEncoder().encode(header), 10);
  const data = new Float32Array(bytes.buffer, 10 + header.length, blocks * rows * cols);
  features.forEach((m, b) => {
    if (m.rows !== rows || m.cols !== cols) {
      throw new KoraError({
        code: "SHAPE_MISMATCH",
        message: `features[${b}] is ${m.rows}×${m.cols}; every block must be ${rows}×${cols}`,
        path: `features[${b}]`,
      });
    }
    data.set(m.data, b * rows * cols);
  });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, bytes);
  renameSync(temporary, path);
}

/**
 * Why the features file at `path` cannot be read (`"it is missing"`, or what {@link readFeatures} rejects: a torn,
 * empty or foreign file), or `null` when it reads. Used to check a completed CKA run's files before the report needs them.
 */
export function featuresProblem(path: string): string | null {
  try {
    return readFeatures(path) === null ? "it is missing" : null;
  } catch (error) {
    const message = (error as Error).message ?? String(error);
    return message.startsWith(`${path}: `) ? message.slice(path.length + 2) : message;
  }
}

/**
 * Reads what {@link writeFeatures} wrote: one matrix per block; null when the file is not there.
 *
 * @throws KoraError `INVALID_NPY` naming the file when it is not a `[blocks, rows, cols]` array (torn, empty,
 *   foreign), `IO_ERROR` when it cannot be read (a folder in its place).
 */
export function readFeatures(path: string): Matrix[] | null {
  if (!existsSync(path)) return null;
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (error) {
    throw new KoraError({
      code: "IO_ERROR",
      message: `${path}: cannot read the features (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      path,
      cause: error,
    });
  }
  const array = readNpy(bytes, path);
  const [blocks, rows, cols] = array.shape as [number, number, number];
  if (array.shape.length !== 3) {
    throw new KoraError({
      code: "INVALID_NPY",
      message: `${path}: features are [blocks, rows, cols], got shape [${array.shape.join(", ")}]`,
      path,
    });
  }
  return Array.from({ length: blocks }, (_, b) => ({
    rows,
    cols,
    data: array.data.subarray(b * rows * cols, (b + 1) * rows * cols),
  }));
}
