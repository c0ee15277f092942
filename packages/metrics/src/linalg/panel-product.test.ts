import { describe, expect, it } from "vitest";
import { gaussian } from "../../test/helpers";
import { ckaKernel, packPanels, panelProduct, productEngine } from "./panel-product";
import { kernelModuleBytes } from "./wasm-kernel";

/** Naive AᵀB for row-major a (n × p) and b (n × q). */
function naive(a: Float64Array, b: Float64Array, n: number, p: number, q: number): Float64Array {
  const out = new Float64Array(p * q);
  for (let k = 0; k < n; k++)
    for (let i = 0; i < p; i++) for (let j = 0; j < q; j++) out[i * q + j]! += a[k * p + i]! * b[k * q + j]!;
  return out;
}

/** |a| ᵀ |b|: the scale of each entry's rounding error (an entry that cancels can be far smaller). */
function absProduct(a: Float64Array, b: Float64Array, n: number, p: number, q: number): Float64Array {
  return naive(a.map(Math.abs), b.map(Math.abs), n, p, q);
}

/** Largest |x − y| / scale over the entries. */
function maxScaledDifference(x: Float64Array, y: Float64Array, scale: Float64Array): number {
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!) / scale[i]!);
  return worst;
}

/** Set by vitest.config.ts for the project that runs with relaxed SIMD (Node 20: --experimental-wasm-relaxed-simd). */
const expectFma = process.env["KORA_METRICS_EXPECT_FMA"] === "1";

describe("blocked panel product", () => {
  it("the WebAssembly SIMD kernel is available in Node 20", () => {
    expect(productEngine("simd").wasm).toBe(true);
    expect(productEngine("simd").fma).toBe(false);
    expect(productEngine().wasm).toBe(true);
    expect(productEngine("javascript").wasm).toBe(false);
  });

  it("the default kernel is the fused multiply-add one exactly where relaxed SIMD validates, and says so", () => {
    const fused = kernelModuleBytes();
    const plain = kernelModuleBytes("simd");
    expect(plain).not.toBeNull();
    expect(productEngine().fma).toBe(fused !== plain);
    expect(ckaKernel()).toBe(productEngine().fma ? "wasm-fma" : "wasm-simd");
  });

  it.runIf(expectFma)("the metrics-fma project runs the fused kernel (relaxed SIMD on)", () => {
    expect(productEngine().fma).toBe(true);
    expect(productEngine().wasm).toBe(true);
    expect(ckaKernel()).toBe("wasm-fma");
    expect(kernelModuleBytes()).not.toBe(kernelModuleBytes("simd"));
  });

  for (const [n, p, q] of [
    [1, 1, 1],
    [7, 5, 3],
    [301, 13, 22],
    [530, 9, 9],
  ] as const) {
    it(`AᵀB and AᵀA for n=${n}, ${p}×${q}: matches the naive product; plain SIMD and JavaScript kernels agree bit for bit, the default (fused where available) to 1e-13`, () => {
      const a = gaussian(n, p, n + p);
      const b = gaussian(n, q, n + q + 1);
      const pa = packPanels(a, p, n, 1, p);
      const pb = packPanels(b, q, n, 1, q);
      const simd = panelProduct(pa, pb, false, "simd");
      const js = panelProduct(pa, pb, false, "javascript");
      expect(simd).toEqual(js);
      const auto = panelProduct(pa, pb);
      // A fused multiply-add rounds once per step instead of twice: equal up to rounding, not bit for bit.
      if (productEngine().fma) {
        expect(maxScaledDifference(auto, simd, absProduct(a, b, n, p, q))).toBeLessThanOrEqual(1e-13);
      } else {
        expect(auto).toEqual(simd);
      }
      const ref = naive(a, b, n, p, q);
      for (let i = 0; i < ref.length; i++) expect(auto[i]).toBeCloseTo(ref[i]!, 10);
      const sym = panelProduct(pa, pa, true);
      const symSimd = panelProduct(pa, pa, true, "simd");
      expect(symSimd).toEqual(panelProduct(pa, pa, true, "javascript"));
      if (productEngine().fma) {
        expect(maxScaledDifference(sym, symSimd, absProduct(a, a, n, p, p))).toBeLessThanOrEqual(1e-13);
      } else {
        expect(sym).toEqual(symSimd);
      }
      const refSym = naive(a, a, n, p, p);
      for (let i = 0; i < p; i++)
        for (let j = 0; j < p; j++) {
          expect(sym[i * p + j]).toBe(sym[j * p + i]);
          expect(sym[i * p + j]).toBeCloseTo(refSym[i * p + j]!, 10);
        }
    });
  }

  it("fused and plain kernels agree to 1e-13 relative on random inputs (several KC blocks, ragged panels)", () => {
    // 1000 positions span 4 KC blocks; 37 and 29 items leave partial panels. Each entry is compared relative to
    // Σ|a||b| (its rounding scale) and the whole product relative to its largest entry.
    const [n, p, q] = [1000, 37, 29];
    const a = gaussian(n, p, 11);
    const b = gaussian(n, q, 12);
    for (let i = 0; i < a.length; i++) a[i]! += 3; // offsets: large terms, cancelling sums
    const pa = packPanels(a, p, n, 1, p);
    const pb = packPanels(b, q, n, 1, q);
    const auto = panelProduct(pa, pb);
    const simd = panelProduct(pa, pb, false, "simd");
    expect(maxScaledDifference(auto, simd, absProduct(a, b, n, p, q))).toBeLessThanOrEqual(1e-13);
    const largest = simd.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(maxScaledDifference(auto, simd, new Float64Array(simd.length).fill(largest))).toBeLessThanOrEqual(
      1e-13,
    );
    const engine = productEngine();
    const gram = engine.rowsGram(a, 40, 25);
    const gramSimd = productEngine("simd").rowsGram(a, 40, 25);
    const scale = gramSimd.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(
      maxScaledDifference(gram, gramSimd, new Float64Array(gram.length).fill(scale)),
    ).toBeLessThanOrEqual(1e-13);
  });

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
