/**
 * Cache-blocked float64 matrix products for the CKA family.
 *
 * Operands are first packed into panels of 4 "items" (the things whose pairwise inner products we want:
 * columns of X for XᵀY, rows of X for XXᵀ). Panel `p` stores, for every position k along the shared
 * dimension, the 4 values of items 4p..4p+3 contiguously: `packed[(p * length + k) * 4 + t]`. The micro
 * kernel then reads two panels linearly and keeps a 4×4 block of the result in registers. Blocking over k
 * (KC positions) and over groups of B panels keeps the panels being reused in L1/L2. The machinery itself is
 * {@link createProductEngine}; this module holds the calling thread's engines. @internal
 */

import { createProductEngine, type ProductEngine } from "./product-engine";
import { kernelModuleBytes } from "./wasm-kernel";

/** Width of a panel (items per panel). @internal */
export const PANEL = 4;

/** Packed operand for {@link panelProduct}. @internal */
export interface Panels {
  /** Number of items (result rows or columns). */
  items: number;
  /** Length of the shared dimension, zero-padded to a multiple of 4. */
  length: number;
  /** Packed values, zero-padded to a whole number of panels. */
  data: Float64Array;
}

let simdEngine: ProductEngine | undefined;
let plainEngine: ProductEngine | undefined;

/**
 * The calling thread's engine: the WebAssembly SIMD kernel where available, else JavaScript; `"javascript"`
 * forces the JavaScript kernel (tests compare the two). @internal
 */
export function productEngine(kernel: "auto" | "javascript" = "auto"): ProductEngine {
  if (kernel === "javascript") {
    plainEngine ??= createProductEngine(null);
    return plainEngine;
  }
  simdEngine ??= createProductEngine(kernelModuleBytes());
  return simdEngine;
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
  const padded = Math.ceil(length / 4) * 4;
  const data = new Float64Array(Math.ceil(items / PANEL) * padded * PANEL);
  productEngine("javascript").pack(data, 0, src, offset, items, length, itemStride, posStride, null);
  return { items, length: padded, data };
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
  const engine = productEngine(kernel);
  const pa = Math.ceil(a.items / PANEL);
  const pb = Math.ceil(b.items / PANEL);
  const ldc = pb * PANEL;
  // Layout (float64 offsets): A panels, then B panels (unless symmetric), then C.
  const bAt = symmetric ? 0 : a.data.length;
  const cAt = bAt + (symmetric ? a.data.length : b.data.length);
  const heap = engine.reserve(cAt + pa * PANEL * ldc);
  heap.set(a.data, 0);
  if (!symmetric) heap.set(b.data, bAt);
  engine.product(heap, 0, bAt, a.length, pa, pb, symmetric, cAt, ldc);
  const out = new Float64Array(a.items * b.items);
  for (let i = 0; i < a.items; i++) {
    for (let j = 0; j < b.items; j++) {
      out[i * b.items + j] =
        symmetric && Math.floor(j / PANEL) < Math.floor(i / PANEL)
          ? heap[cAt + j * ldc + i]!
          : heap[cAt + i * ldc + j]!;
    }
  }
  return out;
}
