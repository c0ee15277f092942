/**
 * The 4×4 float64 micro kernel of the product engine as a tiny hand-assembled WebAssembly SIMD module
 * (f64x2 lanes), built from bytes at run time so the package keeps zero dependencies and no binary assets.
 *
 * `kernel(a, b, count, c, ldcBytes, nq, bStrideBytes)`: for each of `nq` B panels (the q-th at byte offset
 * `b + q·bStrideBytes`), for k < count, with the A and B pointers advancing 32 bytes (one panel row of 4
 * float64) per step, accumulates `a[k][i] * b[k][j]` into 8 v128 accumulators (row i × lanes j0j1, j2j3) and
 * finally adds them to the 4×4 block of C at byte offset `c + 32q` (row stride ldcBytes).
 *
 * Two variants, the same loop: the plain SIMD one multiplies and adds in separate instructions (f64x2.mul then
 * f64x2.add), in the same order as the JavaScript kernel, so the two give bit-identical results; the fused one
 * uses relaxed SIMD's `f64x2.relaxed_madd` (a·b + c), which V8 on an x64 with FMA3 (and on arm64) emits as one
 * fused multiply-add: twice the arithmetic per cycle where the separate multiply and add saturate the vector
 * ports. A fused multiply-add rounds once instead of twice (a smaller error bound per step), so its products
 * differ from the JavaScript kernel's in the last bits: the tests hold them to 1e-13 of Σ|a||b| — an entry that
 * cancels can differ more relative to itself. Relaxed
 * SIMD is on by default in Node ≥ 22 and Chromium ≥ 114; Node 20 has it only with
 * `--experimental-wasm-relaxed-simd`. The variant is chosen by `WebAssembly.validate` on the built module — this
 * code never sets engine flags. The fused module also exports an i32 global `fma` (= 1) so that an engine built
 * from bytes alone can tell which it runs. @internal
 */

const SIMD = 0xfd;
/** k-steps per loop iteration; 2 and 4 measured slower than 1 on V8 11 (register pressure). */
const UNROLL = 1;
const I32 = 0x7f;
const V128 = 0x7b;

/** Unsigned LEB128. */
function uleb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

const localGet = (i: number): number[] => [0x20, ...uleb(i)];
const localSet = (i: number): number[] => [0x21, ...uleb(i)];
const v128Load = (offset: number): number[] => [SIMD, 0x00, 4, ...uleb(offset)];
const v128Store = (offset: number): number[] => [SIMD, 0x0b, 4, ...uleb(offset)];
const load64Splat = (offset: number): number[] => [SIMD, 0x0a, 3, ...uleb(offset)];
const f64x2Add = [SIMD, ...uleb(0xf0)];
const v128Zero = [SIMD, 0x0c, ...new Array<number>(16).fill(0)];
const f64x2Mul = [SIMD, ...uleb(0xf2)];
/** Relaxed SIMD (Wasm 3.0) `f64x2.relaxed_madd`: operands a, b, c → a·b + c, fused or not as the engine chooses. */
const f64x2RelaxedMadd = [SIMD, ...uleb(0x107)];
const i32Const = (v: number): number[] => [0x41, ...sleb(v)];
const I32_ADD = 0x6a;
const I32_MUL = 0x6c;
const I32_LT_U = 0x49;

function sleb(value: number): number[] {
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function vector(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function kernelBody(fma: boolean): number[] {
  // params: 0 a, 1 b, 2 count, 3 c, 4 ldc, 5 nq, 6 bStride
  // locals: 7 end, 8 ai, 9 bi (i32); 10..17 accumulators, 18 b01, 19 b23, 20 splat (v128)
  const A = 0;
  const B = 1;
  const COUNT = 2;
  const C = 3;
  const LDC = 4;
  const NQ = 5;
  const BSTRIDE = 6;
  const END = 7;
  const AI = 8;
  const BI = 9;
  const ACC = 10;
  const B01 = 18;
  const B23 = 19;
  const S = 20;
  const code: number[] = [];
  // The loop over q (the B panels of one row of C blocks) runs here rather than in JavaScript: one call per
  // row of blocks instead of one per block (the calls cost about a tenth of the product when made per block).
  code.push(0x02, 0x40); // block $exit
  code.push(0x03, 0x40); // loop $q
  code.push(...localGet(NQ), 0x45, 0x0d, 0x01); // if (nq == 0) break $exit
  for (let r = 0; r < 8; r++) code.push(...v128Zero, ...localSet(ACC + r));
  // end = a + count * 32; ai = a; bi = b
  code.push(...localGet(A), ...localGet(COUNT), ...i32Const(32), I32_MUL, I32_ADD, ...localSet(END));
  code.push(...localGet(A), ...localSet(AI), ...localGet(B), ...localSet(BI));
  // if (ai < end) loop { ... }
  code.push(...localGet(AI), ...localGet(END), I32_LT_U, 0x04, 0x40); // if (void)
  code.push(0x03, 0x40); // loop $k
  for (let step = 0; step < UNROLL; step++) {
    const off = 32 * step;
    code.push(...localGet(BI), ...v128Load(off), ...localSet(B01));
    code.push(...localGet(BI), ...v128Load(off + 16), ...localSet(B23));
    for (let i = 0; i < 4; i++) {
      code.push(...localGet(AI), ...load64Splat(off + 8 * i), ...localSet(S));
      for (const [half, bl] of [
        [0, B01],
        [1, B23],
      ] as const) {
        const acc = ACC + 2 * i + half;
        if (fma) {
          code.push(...localGet(S), ...localGet(bl), ...localGet(acc), ...f64x2RelaxedMadd, ...localSet(acc));
        } else {
          code.push(
            ...localGet(acc),
            ...localGet(S),
            ...localGet(bl),
            ...f64x2Mul,
            ...f64x2Add,
            ...localSet(acc),
          );
        }
      }
    }
  }
  code.push(...localGet(AI), ...i32Const(32 * UNROLL), I32_ADD, ...localSet(AI));
  code.push(...localGet(BI), ...i32Const(32 * UNROLL), I32_ADD, ...localSet(BI));
  code.push(...localGet(AI), ...localGet(END), I32_LT_U, 0x0d, 0x00); // br_if $k
  code.push(0x0b); // end loop $k
  code.push(0x0b); // end if
  // C rows: c + i·ldc (16 bytes at +0, +16) += acc; the row pointer is END, free now.
  code.push(...localGet(C), ...localSet(END));
  for (let i = 0; i < 4; i++) {
    for (let half = 0; half < 2; half++) {
      code.push(...localGet(END)); // address for store
      code.push(...localGet(END), ...v128Load(16 * half), ...localGet(ACC + 2 * i + half), ...f64x2Add);
      code.push(...v128Store(16 * half));
    }
    code.push(...localGet(END), ...localGet(LDC), I32_ADD, ...localSet(END));
  }
  // b += bStride; c += 32 (the next 4 columns of C); nq -= 1
  code.push(...localGet(B), ...localGet(BSTRIDE), I32_ADD, ...localSet(B));
  code.push(...localGet(C), ...i32Const(32), I32_ADD, ...localSet(C));
  code.push(...localGet(NQ), ...i32Const(1), 0x6b, ...localSet(NQ)); // i32.sub
  code.push(0x0c, 0x00); // br $q
  code.push(0x0b); // end loop $q
  code.push(0x0b); // end block $exit
  code.push(0x0b); // end function
  const locals = vector([
    [3, I32],
    [11, V128],
  ]);
  const body = [...locals, ...code];
  return [...uleb(body.length), ...body];
}

function moduleBytes(fma: boolean): Uint8Array<ArrayBuffer> {
  const type = section(
    1,
    vector([[0x60, ...vector([[I32], [I32], [I32], [I32], [I32], [I32], [I32]]), 0x00]]),
  );
  // import env.memory (min 1 page)
  const name = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))];
  const imports = section(2, vector([[...name("env"), ...name("memory"), 0x02, 0x00, 0x01]]));
  const functions = section(3, vector([[0x00]]));
  // The fused module's marker: an immutable i32 global `fma` = 1 (i32.const 1, end).
  const globals = fma ? section(6, vector([[I32, 0x00, ...i32Const(1), 0x0b]])) : [];
  const exports = section(
    7,
    vector([[...name("kernel"), 0x00, 0x00], ...(fma ? [[...name("fma"), 0x03, 0x00]] : [])]),
  );
  const code = section(10, vector([kernelBody(fma)]));
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...type,
    ...imports,
    ...functions,
    ...globals,
    ...exports,
    ...code,
  ]);
}

/** Which kernel module: `"auto"` the fused one where the engine validates it, else the plain SIMD one. */
export type KernelVariant = "auto" | "simd";

const cached: { auto?: Uint8Array<ArrayBuffer> | null; simd?: Uint8Array<ArrayBuffer> | null } = {};

function validated(fma: boolean): Uint8Array<ArrayBuffer> | null {
  try {
    if (typeof WebAssembly !== "object") return null;
    const bytes = moduleBytes(fma);
    return WebAssembly.validate(bytes) ? bytes : null;
  } catch {
    return null;
  }
}

/**
 * The kernel module's bytes, or null where WebAssembly SIMD is unavailable (then the JavaScript kernel is used).
 * `"auto"` gives the fused (relaxed SIMD) module where the engine accepts it, the plain SIMD one otherwise;
 * `"simd"` always the plain one. Set `globalThis.KORA_METRICS_NO_WASM = true` before the first call to force the
 * JavaScript kernel, `globalThis.KORA_METRICS_NO_FMA = true` to keep `"auto"` on the plain SIMD module. The bytes
 * (not a compiled module) are what a worker receives: every environment can clone them. @internal
 */
export function kernelModuleBytes(variant: KernelVariant = "auto"): Uint8Array<ArrayBuffer> | null {
  const known = cached[variant];
  if (known !== undefined) return known;
  const flags = globalThis as { KORA_METRICS_NO_WASM?: boolean; KORA_METRICS_NO_FMA?: boolean };
  if (cached.simd === undefined) cached.simd = flags.KORA_METRICS_NO_WASM === true ? null : validated(false);
  // Without SIMD there is no relaxed SIMD; `"auto"` falls back to the very same plain bytes.
  if (variant === "auto") {
    const fused = cached.simd !== null && flags.KORA_METRICS_NO_FMA !== true ? validated(true) : null;
    cached.auto = fused ?? cached.simd;
  }
  return cached[variant] ?? null;
}

/** Forgets the cached bytes (tests). @internal */
export function resetWasmKernel(): void {
  delete cached.auto;
  delete cached.simd;
}
