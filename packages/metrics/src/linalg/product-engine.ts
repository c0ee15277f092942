/** Values a packing pass reads: any of the element types a {@link Matrix} may hold. @internal */
export type Source = Float32Array | Float64Array | readonly number[];

/** One representation's share of a stacked product: its row-major values, columns and column means. @internal */
export interface ColumnPart {
  /** Row-major values of rows `r0 … r1 − 1` (or of every row; see {@link ProductEngine.columnsGram}). */
  data: Source;
  /** Number of columns (features). */
  cols: number;
  /** Column means subtracted while packing (two-pass centring), or null for data already centred. */
  means: Float64Array | null;
}

/** The stacked Gram `ZᵀZ` of {@link ProductEngine.columnsGram}. @internal */
export interface ColumnsGram {
  /** Row-major `ldc × ldc`; only 4×4 blocks on or above the block diagonal are filled (the rest is zero). */
  c: Float64Array;
  /** Row stride of `c`: 4 × the number of panels. */
  ldc: number;
  /** First column of each part in `c` (parts start on a panel boundary, padding columns are zero). */
  starts: number[];
}

/** The blocked float64 product machinery, on WebAssembly memory or on a plain Float64Array. @internal */
export interface ProductEngine {
  /** True when products run in the WebAssembly SIMD kernel (false: the JavaScript kernel). */
  readonly wasm: boolean;
  /**
   * True when that kernel is the fused multiply-add one (relaxed SIMD `f64x2.relaxed_madd`): its sums round once
   * per step instead of twice, so they differ from the JavaScript kernel's in the last bits.
   */
  readonly fma: boolean;
  /**
   * A heap of at least `length` float64 values: WebAssembly memory when the SIMD kernel is available and the
   * heap fits in 2 GiB, a fresh Float64Array otherwise. A new call invalidates earlier views (memory grows).
   */
  reserve(length: number): Float64Array;
  /**
   * Packs `items` items of `src` (item i, position k at `src[offset + i·itemStride + k·posStride]`, minus
   * `means[i]` when given) into panels at `heap[at…]`, zero-padded; returns the float64 length written.
   */
  pack(
    heap: Float64Array,
    at: number,
    src: Source,
    offset: number,
    items: number,
    length: number,
    itemStride: number,
    posStride: number,
    means: Float64Array | null,
  ): number;
  /**
   * `C += AᵀB` over packed panels (A: `pa` panels at `aAt`, B: `pb` panels at `bAt`, both of padded `length`),
   * C row-major with stride `ldc` at `cAt`, zeroed first. With `symmetric`, only blocks with q ≥ p are formed.
   */
  product(
    heap: Float64Array,
    aAt: number,
    bAt: number,
    length: number,
    pa: number,
    pb: number,
    symmetric: boolean,
    cAt: number,
    ldc: number,
  ): void;
  /**
   * `ZᵀZ` (upper 4×4 blocks) for Z = the column-centred parts side by side, over rows `r0 … r1 − 1` of each
   * part's `data` (`rowOffset` is the row at which `data` starts). Summing the results over disjoint row ranges
   * gives the product over all rows: this is how the work is split between workers. With `into` (at least
   * `ldc²` long, e.g. a view of shared memory) the result is written there instead of a new array.
   */
  columnsGram(
    parts: readonly ColumnPart[],
    r0: number,
    r1: number,
    rowOffset: number,
    into?: Float64Array,
  ): ColumnsGram;
  /** The full `rows × rows` Gram `XXᵀ` of row-major `data` (used as it is: centre it first). */
  rowsGram(data: Source, rows: number, cols: number): Float64Array;
}

/**
 * Builds a product engine from the kernel module's bytes (null: the JavaScript kernel only).
 *
 * This function is **self-contained** — it refers to nothing outside its own body — because the worker pool
 * starts workers from its source text (`String(createProductEngine)`): a worker then runs exactly the code
 * the calling thread runs, with no second copy of the kernel to keep in step and no file to resolve at run
 * time (bundlers cannot follow a worker's file, and the package has no dependencies to help). Keep it so:
 * no imports, no module-level constants, no helpers from outside. @internal
 */
export function createProductEngine(bytes: Uint8Array<ArrayBuffer> | null): ProductEngine {
  const PANEL = 4;
  // Positions per block (the A and B panel slices stay in L1: 256 × 4 × 8 B = 8 KiB each) and B panels per
  // group (32 × 8 KiB stay in L2 while every A panel passes over them).
  const KC = 256;
  const QB = 32;
  // Byte offsets go to the kernel as i32; beyond 2 GiB the JavaScript kernel on a plain array takes over.
  const WASM_LIMIT = 2 ** 31;
  type Kernel = (
    a: number,
    b: number,
    count: number,
    c: number,
    ldc: number,
    nq: number,
    stride: number,
  ) => void;

  let memory: WebAssembly.Memory | null = null;
  let kernel: Kernel | null = null;
  // The fused (relaxed SIMD) module exports a global `fma`; the plain SIMD one does not.
  let fused = false;
  if (bytes !== null) {
    try {
      memory = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
      const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
      kernel = instance.exports["kernel"] as Kernel;
      fused = instance.exports["fma"] !== undefined;
    } catch {
      memory = null;
      kernel = null;
      fused = false;
    }
  }

  function reserve(length: number): Float64Array {
    const needed = 8 * length;
    if (memory === null || needed > WASM_LIMIT) return new Float64Array(length);
    const have = memory.buffer.byteLength;
    if (needed > have) memory.grow(Math.ceil((needed - have) / 65536));
    return new Float64Array(memory.buffer, 0, length);
  }

  function pack(
    heap: Float64Array,
    at: number,
    src: Source,
    offset: number,
    items: number,
    length: number,
    itemStride: number,
    posStride: number,
    means: Float64Array | null,
  ): number {
    const panels = Math.ceil(items / PANEL);
    // The shared dimension is zero-padded to a multiple of 4; WebAssembly memory is reused, so padding is
    // written explicitly rather than assumed zero.
    const padded = Math.ceil(length / 4) * 4;
    const total = panels * padded * PANEL;
    if (padded > length) {
      for (let p = 0; p < panels; p++) {
        heap.fill(0, at + (p * padded + length) * PANEL, at + (p + 1) * padded * PANEL);
      }
    }
    if (items % PANEL !== 0) heap.fill(0, at + (panels - 1) * padded * PANEL, at + total);
    // Positions are visited in blocks so that a block of the source stays in cache while every panel reads it.
    const ROWS = 32;
    for (let k0 = 0; k0 < length; k0 += ROWS) {
      const k1 = Math.min(length, k0 + ROWS);
      for (let p = 0; p < panels; p++) {
        const width = Math.min(PANEL, items - p * PANEL);
        const first = offset + p * PANEL * itemStride;
        let d = at + (p * padded + k0) * PANEL;
        if (width === PANEL) {
          const m0 = means === null ? 0 : means[p * PANEL]!;
          const m1 = means === null ? 0 : means[p * PANEL + 1]!;
          const m2 = means === null ? 0 : means[p * PANEL + 2]!;
          const m3 = means === null ? 0 : means[p * PANEL + 3]!;
          for (let k = k0; k < k1; k++) {
            const s = first + k * posStride;
            heap[d] = src[s]! - m0;
            heap[d + 1] = src[s + itemStride]! - m1;
            heap[d + 2] = src[s + 2 * itemStride]! - m2;
            heap[d + 3] = src[s + 3 * itemStride]! - m3;
            d += PANEL;
          }
        } else {
          for (let k = k0; k < k1; k++) {
            const s = first + k * posStride;
            for (let t = 0; t < width; t++) {
              heap[d + t] = src[s + t * itemStride]! - (means === null ? 0 : means[p * PANEL + t]!);
            }
            d += PANEL;
          }
        }
      }
    }
    return total;
  }

  /**
   * The JavaScript 4×4 micro kernel: 16 accumulators V8 keeps in registers; same order as the SIMD ones (and the
   * same rounding as the plain SIMD one: separate multiply and add).
   */
  function micro(
    h: Float64Array,
    aStart: number,
    bStart: number,
    count: number,
    cStart: number,
    ldc: number,
  ): void {
    let c00 = 0;
    let c01 = 0;
    let c02 = 0;
    let c03 = 0;
    let c10 = 0;
    let c11 = 0;
    let c12 = 0;
    let c13 = 0;
    let c20 = 0;
    let c21 = 0;
    let c22 = 0;
    let c23 = 0;
    let c30 = 0;
    let c31 = 0;
    let c32 = 0;
    let c33 = 0;
    let ia = aStart;
    let ib = bStart;
    const end = aStart + count * PANEL;
    while (ia < end) {
      const a0 = h[ia]!;
      const a1 = h[ia + 1]!;
      const a2 = h[ia + 2]!;
      const a3 = h[ia + 3]!;
      const b0 = h[ib]!;
      const b1 = h[ib + 1]!;
      const b2 = h[ib + 2]!;
      const b3 = h[ib + 3]!;
      c00 += a0 * b0;
      c01 += a0 * b1;
      c02 += a0 * b2;
      c03 += a0 * b3;
      c10 += a1 * b0;
      c11 += a1 * b1;
      c12 += a1 * b2;
      c13 += a1 * b3;
      c20 += a2 * b0;
      c21 += a2 * b1;
      c22 += a2 * b2;
      c23 += a2 * b3;
      c30 += a3 * b0;
      c31 += a3 * b1;
      c32 += a3 * b2;
      c33 += a3 * b3;
      ia += PANEL;
      ib += PANEL;
    }
    let o = cStart;
    h[o]! += c00;
    h[o + 1]! += c01;
    h[o + 2]! += c02;
    h[o + 3]! += c03;
    o += ldc;
    h[o]! += c10;
    h[o + 1]! += c11;
    h[o + 2]! += c12;
    h[o + 3]! += c13;
    o += ldc;
    h[o]! += c20;
    h[o + 1]! += c21;
    h[o + 2]! += c22;
    h[o + 3]! += c23;
    o += ldc;
    h[o]! += c30;
    h[o + 1]! += c31;
    h[o + 2]! += c32;
    h[o + 3]! += c33;
  }

  function product(
    heap: Float64Array,
    aAt: number,
    bAt: number,
    length: number,
    pa: number,
    pb: number,
    symmetric: boolean,
    cAt: number,
    ldc: number,
  ): void {
    heap.fill(0, cAt, cAt + pa * PANEL * ldc);
    const simd = kernel !== null && memory !== null && heap.buffer === memory.buffer ? kernel : null;
    const stride = length * PANEL;
    for (let k0 = 0; k0 < length; k0 += KC) {
      const count = Math.min(KC, length - k0);
      for (let q0 = 0; q0 < pb; q0 += QB) {
        const q1 = Math.min(pb, q0 + QB);
        for (let p = 0; p < pa; p++) {
          const qFirst = symmetric ? Math.max(q0, p) : q0;
          if (qFirst >= q1) continue;
          const aStart = aAt + p * stride + k0 * PANEL;
          const bStart = bAt + qFirst * stride + k0 * PANEL;
          const cStart = cAt + p * PANEL * ldc + qFirst * PANEL;
          if (simd !== null) {
            simd(8 * aStart, 8 * bStart, count, 8 * cStart, 8 * ldc, q1 - qFirst, 8 * stride);
          } else {
            for (let q = qFirst; q < q1; q++) {
              micro(heap, aStart, bStart + (q - qFirst) * stride, count, cStart + (q - qFirst) * PANEL, ldc);
            }
          }
        }
      }
    }
  }

  function columnsGram(
    parts: readonly ColumnPart[],
    r0: number,
    r1: number,
    rowOffset: number,
    into?: Float64Array,
  ): ColumnsGram {
    const length = r1 - r0;
    const padded = Math.ceil(length / 4) * 4;
    const starts: number[] = [];
    let panels = 0;
    for (const part of parts) {
      starts.push(panels * PANEL);
      panels += Math.ceil(part.cols / PANEL);
    }
    const ldc = panels * PANEL;
    const zLength = panels * padded * PANEL;
    const heap = reserve(zLength + ldc * ldc);
    let at = 0;
    for (const part of parts) {
      at += pack(
        heap,
        at,
        part.data,
        (r0 - rowOffset) * part.cols,
        part.cols,
        length,
        1,
        part.cols,
        part.means,
      );
    }
    product(heap, 0, 0, padded, panels, panels, true, zLength, ldc);
    const c = heap.subarray(zLength, zLength + ldc * ldc);
    if (into === undefined) return { c: c.slice(), ldc, starts };
    into.set(c);
    return { c: into.subarray(0, ldc * ldc), ldc, starts };
  }

  function rowsGram(data: Source, rows: number, cols: number): Float64Array {
    const panels = Math.ceil(rows / PANEL);
    const padded = Math.ceil(cols / 4) * 4;
    const ldc = panels * PANEL;
    const zLength = panels * padded * PANEL;
    const heap = reserve(zLength + ldc * ldc);
    pack(heap, 0, data, 0, rows, cols, cols, 1, null);
    product(heap, 0, 0, padded, panels, panels, true, zLength, ldc);
    const out = new Float64Array(rows * rows);
    for (let i = 0; i < rows; i++) {
      const bi = i >> 2;
      for (let j = 0; j < rows; j++) {
        out[i * rows + j] = j >> 2 < bi ? heap[zLength + j * ldc + i]! : heap[zLength + i * ldc + j]!;
      }
    }
    return out;
  }

  return {
    wasm: kernel !== null,
    fma: kernel !== null && fused,
    reserve,
    pack,
    product,
    columnsGram,
    rowsGram,
  };
}
