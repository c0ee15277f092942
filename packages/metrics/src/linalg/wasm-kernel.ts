/**
 * The 4×4 float64 micro kernel of {@link panelProduct} as a tiny hand-assembled WebAssembly SIMD module
 * (f64x2 lanes), built from bytes at run time so the package keeps zero dependencies and no binary assets.
 *
 * `kernel(a, b, count, c, ldcBytes)`: for k < count, with a and b advancing 32 bytes (one panel row of 4
 * float64) per step, accumulates `a[k][i] * b[k][j]` into 8 v128 accumulators (row i × lanes j0j1, j2j3) and
 * finally adds them to the 4×4 block of C at byte offset c (row stride ldcBytes). Multiply and add are
 * separate instructions (no fused multiply-add), in the same order as the JavaScript kernel, so both give
 * bit-identical results. @internal
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
const f64x2Mul = [SIMD, ...uleb(0xf2)];
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

function kernelBody(): number[] {
  // params: 0 a, 1 b, 2 count, 3 c, 4 ldc; locals: 5 end (i32), 6..13 accumulators, 14 b01, 15 b23, 16 splat
  const A = 0;
  const B = 1;
  const COUNT = 2;
  const C = 3;
  const LDC = 4;
  const END = 5;
  const ACC = 6;
  const B01 = 14;
  const B23 = 15;
  const S = 16;
  const code: number[] = [];
  // end = a + count * 32
  code.push(...localGet(A), ...localGet(COUNT), ...i32Const(32), I32_MUL, I32_ADD, ...localSet(END));
  // if (a < end) loop { ... }
  code.push(...localGet(A), ...localGet(END), I32_LT_U, 0x04, 0x40); // if (void)
  code.push(0x03, 0x40); // loop (void)
  for (let step = 0; step < UNROLL; step++) {
    const off = 32 * step;
    code.push(...localGet(B), ...v128Load(off), ...localSet(B01));
    code.push(...localGet(B), ...v128Load(off + 16), ...localSet(B23));
    for (let i = 0; i < 4; i++) {
      code.push(...localGet(A), ...load64Splat(off + 8 * i), ...localSet(S));
      for (const [half, bl] of [
        [0, B01],
        [1, B23],
      ] as const) {
        const acc = ACC + 2 * i + half;
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
  code.push(...localGet(A), ...i32Const(32 * UNROLL), I32_ADD, ...localSet(A));
  code.push(...localGet(B), ...i32Const(32 * UNROLL), I32_ADD, ...localSet(B));
  code.push(...localGet(A), ...localGet(END), I32_LT_U, 0x0d, 0x00); // br_if loop
  code.push(0x0b); // end loop
  code.push(0x0b); // end if
  // C rows: c[i] (16 bytes at +0, +16) += acc
  for (let i = 0; i < 4; i++) {
    for (let half = 0; half < 2; half++) {
      code.push(...localGet(C)); // address for store
      code.push(...localGet(C), ...v128Load(16 * half), ...localGet(ACC + 2 * i + half), ...f64x2Add);
      code.push(...v128Store(16 * half));
    }
    code.push(...localGet(C), ...localGet(LDC), I32_ADD, ...localSet(C));
  }
  code.push(0x0b); // end function
  const locals = vector([
    [1, I32],
    [11, V128],
  ]);
  const body = [...locals, ...code];
  return [...uleb(body.length), ...body];
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const type = section(1, vector([[0x60, ...vector([[I32], [I32], [I32], [I32], [I32]]), 0x00]]));
  // import env.memory (min 1 page)
  const name = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))];
  const imports = section(2, vector([[...name("env"), ...name("memory"), 0x02, 0x00, 0x01]]));
  const functions = section(3, vector([[0x00]]));
  const exports = section(7, vector([[...name("kernel"), 0x00, 0x00]]));
  const code = section(10, vector([kernelBody()]));
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
    ...exports,
    ...code,
  ]);
}

/** A WebAssembly memory and the kernel bound to it. @internal */
export interface WasmKernel {
  memory: WebAssembly.Memory;
  kernel: (a: number, b: number, count: number, c: number, ldcBytes: number) => void;
}

let cached: WasmKernel | null | undefined;

/**
 * The SIMD kernel, or null where WebAssembly SIMD is unavailable (then the JavaScript kernel is used).
 * Set `globalThis.KORA_METRICS_NO_WASM = true` before the first call to force the JavaScript kernel. @internal
 */
export function wasmKernel(): WasmKernel | null {
  if (cached !== undefined) return cached;
  cached = null;
  try {
    if ((globalThis as { KORA_METRICS_NO_WASM?: boolean }).KORA_METRICS_NO_WASM === true) return null;
    if (typeof WebAssembly !== "object") return null;
    const bytes = moduleBytes();
    if (!WebAssembly.validate(bytes)) return null;
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    cached = { memory, kernel: instance.exports["kernel"] as WasmKernel["kernel"] };
  } catch {
    cached = null;
  }
  return cached;
}

/** Forgets the cached kernel (tests). @internal */
export function resetWasmKernel(): void {
  cached = undefined;
}
