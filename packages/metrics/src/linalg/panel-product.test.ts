import { describe, expect, it } from "vitest";
import { gaussian } from "../../test/helpers";
import { packPanels, panelProduct, productEngine } from "./panel-product";

/** Naive AᵀB for row-major a (n × p) and b (n × q). */
function naive(a: Float64Array, b: Float64Array, n: number, p: number, q: number): Float64Array {
  const out = new Float64Array(p * q);
  for (let k = 0; k < n; k++)
    for (let i = 0; i < p; i++) for (let j = 0; j < q; j++) out[i * q + j]! += a[k * p + i]! * b[k * q + j]!;
  return out;
}

describe("blocked panel product", () => {
  it("the WebAssembly SIMD kernel is available in Node 20", () => {
    expect(productEngine().wasm).toBe(true);
  });

  for (const [n, p, q] of [
    [1, 1, 1],
    [7, 5, 3],
    [301, 13, 22],
    [530, 9, 9],
  ] as const) {
    it(`AᵀB and AᵀA for n=${n}, ${p}×${q}: matches the naive product; SIMD and JavaScript kernels agree bit for bit`, () => {
      const a = gaussian(n, p, n + p);
      const b = gaussian(n, q, n + q + 1);
      const pa = packPanels(a, p, n, 1, p);
      const pb = packPanels(b, q, n, 1, q);
      const wasm = panelProduct(pa, pb);
      const js = panelProduct(pa, pb, false, "javascript");
      expect(wasm).toEqual(js);
      const ref = naive(a, b, n, p, q);
      for (let i = 0; i < ref.length; i++) expect(wasm[i]).toBeCloseTo(ref[i]!, 10);
      const sym = panelProduct(pa, pa, true);
      expect(sym).toEqual(panelProduct(pa, pa, true, "javascript"));
      const refSym = naive(a, a, n, p, p);
      for (let i = 0; i < p; i++)
        for (let j = 0; j < p; j++) {
          expect(sym[i * p + j]).toBe(sym[j * p + i]);
          expect(sym[i * p + j]).toBeCloseTo(refSym[i * p + j]!, 10);
        }
    });
  }

  it("packs rows of a matrix as items (Gram form X Xᵀ)", () => {
    const x = gaussian(6, 5, 3);
    const rows = packPanels(x, 6, 5, 5, 1);
    const gram = panelProduct(rows, rows, true);
    for (let i = 0; i < 6; i++)
      for (let j = 0; j < 6; j++) {
        let s = 0;
        for (let f = 0; f < 5; f++) s += x[i * 5 + f]! * x[j * 5 + f]!;
        expect(gram[i * 6 + j]).toBeCloseTo(s, 12);
      }
  });
});
