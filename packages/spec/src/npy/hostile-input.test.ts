// Regressions from the issue-17 fuzz campaign against readNpy.
import { describe, expect, it } from "vitest";
import { leBytes } from "../../../../scripts/fuzz";
import { KoraError } from "../errors";
import { MAX_NPY_DIMENSIONS, MAX_NPY_HEADER_BYTES, readNpy } from "./read-npy";

/** A version-2 .npy file with `header` verbatim and `data` after it. */
function npy2(header: string, data = new Uint8Array(0)): Uint8Array {
  const text = new TextEncoder().encode(header);
  const out = new Uint8Array(12 + text.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0]);
  out.set(leBytes(BigInt(text.length), 4), 8);
  out.set(text, 12);
  out.set(data, 12 + text.length);
  return out;
}

function errorOf(fn: () => unknown): KoraError {
  try {
    fn();
  } catch (error) {
    if (KoraError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected a KoraError");
}

describe("readNpy on hostile input (issue 17)", () => {
  it("a Fortran-order header with 60 000 dimensions is INVALID_NPY at once (it took 92 s, quadratic)", () => {
    const shape = `(${"1,".repeat(60_000)})`;
    const bytes = npy2(`{'descr': '<f4', 'fortran_order': True, 'shape': ${shape}, }`, new Uint8Array(4));
    const error = errorOf(() => readNpy(bytes, "dims.npy"));
    expect(error.code).toBe("INVALID_NPY");
    expect(error.message).toMatch(/^dims\.npy: header of 120054 bytes/);
  });

  it("one dimension more than MAX_NPY_DIMENSIONS is INVALID_NPY, even in a short header", () => {
    const shape = `(${"1,".repeat(MAX_NPY_DIMENSIONS + 1)})`;
    const bytes = npy2(`{'descr': '<f4', 'fortran_order': True, 'shape': ${shape}, }`, new Uint8Array(4));
    expect(errorOf(() => readNpy(bytes, "dims.npy")).message).toContain(`at most ${MAX_NPY_DIMENSIONS}`);
  });

  it("reads MAX_NPY_DIMENSIONS dimensions in Fortran order", () => {
    const shape = `(${"1, ".repeat(MAX_NPY_DIMENSIONS - 1)}2)`;
    const data = new Float32Array([1.5, -2]);
    const read = readNpy(
      npy2(`{'descr': '<f4', 'fortran_order': True, 'shape': ${shape}, }`, new Uint8Array(data.buffer)),
    );
    expect(read.shape.length).toBe(MAX_NPY_DIMENSIONS);
    expect(Array.from(read.data)).toEqual([1.5, -2]);
  });

  it("a header longer than numpy's own limit is INVALID_NPY naming the limit", () => {
    const header = `{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }${" ".repeat(MAX_NPY_HEADER_BYTES)}`;
    const error = errorOf(() => readNpy(npy2(header, new Uint8Array(4)), "long.npy"));
    expect(error.code).toBe("INVALID_NPY");
    expect(error.message).toContain(`${MAX_NPY_HEADER_BYTES}`);
  });

  it("shape entries must be decimal integers (1e3, 0x10 and 1.0 are not numpy's)", () => {
    for (const dim of ["1e3", "0x10", "1.0", "-0"]) {
      const header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dim},), }`;
      expect(errorOf(() => readNpy(npy2(header, new Uint8Array(4096)), "s.npy")).code).toBe("INVALID_NPY");
    }
  });

  it("a shape whose element count overflows, or outgrows the data, fails before allocating", () => {
    const huge = `{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }`;
    expect(errorOf(() => readNpy(npy2(huge), "h.npy")).message).toContain("too many elements");
    const big = `{'descr': '<f8', 'fortran_order': True, 'shape': (100000, 100000), }`;
    expect(errorOf(() => readNpy(npy2(big, new Uint8Array(8)), "b.npy")).message).toContain("data bytes");
  });
});
