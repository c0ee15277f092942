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

/** Width of a panel (items per panel). @internal */
export const PANEL = 4;
const KC = 256;
const QB = 32;

/** Packed operand for {@link panelProduct}. @internal */
export interface Panels {
  /** Number of items (result rows or columns). */
  items: number;
  /** Length of the shared dimension. */
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
  const data = new Float64Array(panels * length * PANEL);
  for (let p = 0; p < panels; p++) {
    const width = Math.min(PANEL, items - p * PANEL);
    const base = p * length * PANEL;
    for (let t = 0; t < width; t++) {
      let s = offset + (p * PANEL + t) * itemStride;
      let d = base + t;
      for (let k = 0; k < length; k++) {
        data[d] = src[s]!;
        s += posStride;
        d += PANEL;
      }
    }
  }
  return { items, length, data };
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
 * 4×4 blocks is computed and mirrored. @internal
 */
export function panelProduct(a: Panels, b: Panels, symmetric = false): Float64Array {
  const length = a.length;
  const pa = Math.ceil(a.items / PANEL);
  const pb = Math.ceil(b.items / PANEL);
  // Work in a padded result so the kernel never needs edge cases.
  const ldc = pb * PANEL;
  const c = new Float64Array(pa * PANEL * ldc);
  const stride = length * PANEL;
  for (let k0 = 0; k0 < length; k0 += KC) {
    const count = Math.min(KC, length - k0);
    for (let q0 = 0; q0 < pb; q0 += QB) {
      const q1 = Math.min(pb, q0 + QB);
      for (let p = 0; p < pa; p++) {
        const aStart = p * stride + k0 * PANEL;
        const qFirst = symmetric ? Math.max(q0, p) : q0;
        for (let q = qFirst; q < q1; q++) {
          microKernel(
            a.data,
            aStart,
            b.data,
            q * stride + k0 * PANEL,
            count,
            c,
            p * PANEL * ldc + q * PANEL,
            ldc,
          );
        }
      }
    }
  }
  const out = new Float64Array(a.items * b.items);
  for (let i = 0; i < a.items; i++) {
    for (let j = 0; j < b.items; j++) {
      out[i * b.items + j] =
        symmetric && Math.floor(j / PANEL) < Math.floor(i / PANEL) ? c[j * ldc + i]! : c[i * ldc + j]!;
    }
  }
  return out;
}
