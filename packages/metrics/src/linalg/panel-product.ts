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

/**
 * Which kernel an engine runs: `"auto"` the best the environment offers (fused multiply-add WebAssembly where
 * relaxed SIMD is available, else plain WebAssembly SIMD, else JavaScript), `"simd"` the plain WebAssembly SIMD
 * one (separate multiply and add; JavaScript where SIMD is unavailable), `"javascript"` the JavaScript one.
 * @internal
 */
export type KernelChoice = "auto" | "simd" | "javascript";

const engines: Partial<Record<KernelChoice, ProductEngine>> = {};
let preferred: KernelChoice = "auto";

/**
 * The calling thread's engine for `kernel` (default: the one chosen by {@link useProductKernel}, `"auto"`
 * unless changed); engines are created once and kept, so switching costs nothing. @internal
 */
export function productEngine(kernel: KernelChoice = preferred): ProductEngine {
  let engine = engines[kernel];
  if (engine === undefined) {
    engine = createProductEngine(
      kernel === "javascript" ? null : kernelModuleBytes(kernel === "simd" ? "simd" : "auto"),
    );
    engines[kernel] = engine;
  }
  return engine;
}

/**
 * Sets the kernel that {@link productEngine} gives by default on the calling thread — the synchronous CKA
 * functions follow it (workers keep the `"auto"` kernel). For tests and for measuring the kernels against each
 * other in one process. @internal
 */
export function useProductKernel(kernel: KernelChoice): void {
  preferred = kernel;
}

/**
 * The kernel the calling thread's CKA products run on: `"wasm-fma"` (WebAssembly relaxed SIMD, fused
 * multiply-add), `"wasm-simd"` (WebAssembly SIMD, separate multiply and add) or `"javascript"`. Worker threads
 * of a `CKAWorkerPool` run the same kernel.
 */
export function ckaKernel(): "wasm-fma" | "wasm-simd" | "javascript" {
  const engine = productEngine();
  return engine.fma ? "wasm-fma" : engine.wasm ? "wasm-simd" : "javascript";
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
 * 4×4 blocks is computed and mirrored. `kernel` as for {@link productEngine}: by default the fused WebAssembly
 * kernel where relaxed SIMD is available, else the plain SIMD one (bit-identical to the JavaScript one, about 3×
 * faster), else JavaScript. @internal
 */
export function panelProduct(
  a: Panels,
  b: Panels,
  symmetric = false,
  kernel: KernelChoice = "auto",
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
