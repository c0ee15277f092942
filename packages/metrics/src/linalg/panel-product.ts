/**
 * Cache-blocked float64 matrix products for the CKA family.
 *
 * Operands are first packed into panels of 4 "items" (the things whose pairwise inner products we want:
 * columns of X for XᵀY, rows of X for XXᵀ). Panel `p` stores, for every position k along the shared
 * dimension, the 4 values of items 4p..4p+3 contiguously: `packed[(p * length + k) * 4 + t]`. The micro
 * kernel then reads two panels linearly and keeps a 4×4 block of the result in 16 local float64 variables,
 * which V8 keeps in registers. Blocking over k (KC positions) and over groups of B panels keeps the panels
 * being reused in L1/L2. @internal
 */

import { type WasmKernel, wasmKernel } from "./wasm-kernel";

/** Width of a panel (items per panel). @internal */
export const PANEL = 4;
const KC = 256;
const QB = 32;

/** Packed operand for {@link panelProduct}. @internal */
export interface Panels {
  /** Number of items (result rows or columns). */
  items: number;
  /** Length of the shared dimension, zero-padded to a multiple of 4. */
  length: number;
  /** Packed values, zero-padded to a whole number of panels. */
  data: Float64Array;
}

/**
 * Packs items of `src` into panels. Element (item i, position k) is `src[offset + i * itemStride + k * posStride]`.
 * @internal
 */
export function packPanels(
  src: Float64Array,
  items: number,
  length: number,
  itemStride: number,
  posStride: number,
  offset = 0,
): Panels {
  const panels = Math.ceil(items / PANEL);
  // The shared dimension is zero-padded to a multiple of 4 (the SIMD kernel takes several steps per iteration).
  const padded = Math.ceil(length / 4) * 4;
  const data = new Float64Array(panels * padded * PANEL);
  // Rows of the source are visited in blocks so that a block stays in cache while every panel reads it.
  const ROWS = 32;
  for (let k0 = 0; k0 < length; k0 += ROWS) {
    const k1 = Math.min(length, k0 + ROWS);
    for (let p = 0; p < panels; p++) {
      const width = Math.min(PANEL, items - p * PANEL);
      const first = offset + p * PANEL * itemStride;
      let d = (p * padded + k0) * PANEL;
      if (width === PANEL) {
        for (let k = k0; k < k1; k++) {
          const s = first + k * posStride;
          data[d] = src[s]!;
          data[d + 1] = src[s + itemStride]!;
          data[d + 2] = src[s + 2 * itemStride]!;
          data[d + 3] = src[s + 3 * itemStride]!;
          d += PANEL;
        }
      } else {
        for (let k = k0; k < k1; k++) {
          const s = first + k * posStride;
          for (let t = 0; t < width; t++) data[d + t] = src[s + t * itemStride]!;
          d += PANEL;
        }
      }
    }
  }
  return { items, length: padded, data };
}

function microKernel(
  a: Float64Array,
  aStart: number,
  b: Float64Array,
  bStart: number,
  count: number,
  c: Float64Array,
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
    const a0 = a[ia]!;
    const a1 = a[ia + 1]!;
    const a2 = a[ia + 2]!;
    const a3 = a[ia + 3]!;
    const b0 = b[ib]!;
    const b1 = b[ib + 1]!;
    const b2 = b[ib + 2]!;
    const b3 = b[ib + 3]!;
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
  c[o]! += c00;
  c[o + 1]! += c01;
  c[o + 2]! += c02;
  c[o + 3]! += c03;
  o += ldc;
  c[o]! += c10;
  c[o + 1]! += c11;
  c[o + 2]! += c12;
  c[o + 3]! += c13;
  o += ldc;
  c[o]! += c20;
  c[o + 1]! += c21;
  c[o + 2]! += c22;
  c[o + 3]! += c23;
  o += ldc;
  c[o]! += c30;
  c[o + 1]! += c31;
  c[o + 2]! += c32;
  c[o + 3]! += c33;
}

/**
 * Returns the `a.items × b.items` row-major matrix of inner products between the items of `a` and of `b`
 * (`AᵀB` when items are columns). With `symmetric` (a and b are the same panels), only the upper triangle of
 * 4×4 blocks is computed and mirrored. Uses the WebAssembly SIMD kernel when available (bit-identical to the
 * JavaScript one, about 3× faster), the JavaScript kernel otherwise. @internal
 */
export function panelProduct(
  a: Panels,
  b: Panels,
  symmetric = false,
  kernel: "auto" | "javascript" = "auto",
): Float64Array {
  const pa = Math.ceil(a.items / PANEL);
  const pb = Math.ceil(b.items / PANEL);
  const ldc = pb * PANEL;
  const wasm = kernel === "auto" ? wasmKernel() : null;
  const bytes = 8 * (a.data.length + (symmetric ? 0 : b.data.length) + pa * PANEL * ldc);
  const c =
    wasm !== null && bytes <= WASM_LIMIT
      ? productWasm(wasm, a, b, symmetric, pa, pb, ldc)
      : productJs(a, b, symmetric, pa, pb, ldc);
  const out = new Float64Array(a.items * b.items);
  for (let i = 0; i < a.items; i++) {
    for (let j = 0; j < b.items; j++) {
      out[i * b.items + j] =
        symmetric && Math.floor(j / PANEL) < Math.floor(i / PANEL) ? c[j * ldc + i]! : c[i * ldc + j]!;
    }
  }
  return out;
}

/** Largest working set (bytes) placed in WebAssembly memory; larger products use the JavaScript kernel. */
const WASM_LIMIT = 2 ** 31;

type Kernel = (aStart: number, bStart: number, count: number, cStart: number) => void;

function blockedLoops(
  length: number,
  pa: number,
  pb: number,
  ldc: number,
  symmetric: boolean,
  kernel: Kernel,
): void {
  const stride = length * PANEL;
  for (let k0 = 0; k0 < length; k0 += KC) {
    const count = Math.min(KC, length - k0);
    for (let q0 = 0; q0 < pb; q0 += QB) {
      const q1 = Math.min(pb, q0 + QB);
      for (let p = 0; p < pa; p++) {
        const aStart = p * stride + k0 * PANEL;
        const qFirst = symmetric ? Math.max(q0, p) : q0;
        for (let q = qFirst; q < q1; q++) {
          kernel(aStart, q * stride + k0 * PANEL, count, p * PANEL * ldc + q * PANEL);
        }
      }
    }
  }
}

function productJs(
  a: Panels,
  b: Panels,
  symmetric: boolean,
  pa: number,
  pb: number,
  ldc: number,
): Float64Array {
  const c = new Float64Array(pa * PANEL * ldc);
  blockedLoops(a.length, pa, pb, ldc, symmetric, (aStart, bStart, count, cStart) =>
    microKernel(a.data, aStart, b.data, bStart, count, c, cStart, ldc),
  );
  return c;
}

function productWasm(
  wasm: WasmKernel,
  a: Panels,
  b: Panels,
  symmetric: boolean,
  pa: number,
  pb: number,
  ldc: number,
): Float64Array {
  // Layout in WebAssembly memory (float64 offsets): A panels, then B panels (unless symmetric), then C.
  const aOffset = 0;
  const bOffset = symmetric ? aOffset : a.data.length;
  const cOffset = bOffset + (symmetric ? a.data.length : b.data.length);
  const cLength = pa * PANEL * ldc;
  const needed = 8 * (cOffset + cLength);
  const have = wasm.memory.buffer.byteLength;
  if (needed > have) wasm.memory.grow(Math.ceil((needed - have) / 65536));
  const heap = new Float64Array(wasm.memory.buffer);
  heap.set(a.data, aOffset);
  if (!symmetric) heap.set(b.data, bOffset);
  heap.fill(0, cOffset, cOffset + cLength);
  const kernel = wasm.kernel;
  const ldcBytes = 8 * ldc;
  blockedLoops(a.length, pa, pb, ldc, symmetric, (aStart, bStart, count, cStart) =>
    kernel(8 * (aOffset + aStart), 8 * (bOffset + bStart), count, 8 * (cOffset + cStart), ldcBytes),
  );
  return heap.slice(cOffset, cOffset + cLength);
}
