// Relaxed SIMD for @kora/metrics' fused multiply-add kernel: on by default from Node 22, behind a V8 flag on Node
// 20 and 21. The library never sets engine flags; the bench scripts pass the flag to the Node they start.

/** The smallest module using relaxed SIMD (`f64x2.relaxed_madd` of its three v128 parameters). */
const PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b,
  0x03, 0x02, 0x01, 0x00, 0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x87, 0x02,
  0x0b,
]);

export const RELAXED_SIMD_FLAG = "--experimental-wasm-relaxed-simd";

/** Whether this process's WebAssembly accepts relaxed SIMD. */
export function relaxedSimd() {
  return typeof WebAssembly === "object" && WebAssembly.validate(PROBE);
}

/**
 * Node arguments that give a child Node relaxed SIMD: none where this Node has it already (Node ≥ 22) or was
 * started with it turned off (`--no-experimental-wasm-relaxed-simd`), or where `KORA_METRICS_NO_FMA=1` asks
 * for the plain kernel; the flag on Node 20 and 21.
 */
export function relaxedSimdArgs() {
  if (relaxedSimd() || process.env.KORA_METRICS_NO_FMA === "1") return [];
  if (process.execArgv.includes(`--no-${RELAXED_SIMD_FLAG.slice(2)}`)) return [];
  return Number(process.versions.node.split(".")[0]) < 22 ? [RELAXED_SIMD_FLAG] : [];
}
