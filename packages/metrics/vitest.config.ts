import { defineConfig } from "vitest/config";

/** The smallest module using relaxed SIMD (`f64x2.relaxed_madd` of its three v128 parameters). */
const RELAXED_SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b,
  0x03, 0x02, 0x01, 0x00, 0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x87, 0x02,
  0x0b,
]);

const test = { include: ["src/**/*.test.ts"], testTimeout: 60_000 };

export default defineConfig({
  test: {
    projects: [
      // Whatever kernel the running Node gives by default: on Node 20 the plain WebAssembly SIMD one.
      { test: { ...test, name: "metrics" } },
      // The products and every CKA test again on the fused multiply-add kernel (relaxed SIMD): on by default
      // from Node 22, behind --experimental-wasm-relaxed-simd on Node 20. The flag goes to the test processes
      // only (forks; a worker thread cannot take V8 flags); KORA_METRICS_EXPECT_FMA makes the suite fail if
      // the fused kernel did not run.
      {
        test: {
          ...test,
          name: "metrics-fma",
          include: ["src/linalg/**/*.test.ts", "src/cka/**/*.test.ts"],
          pool: "forks",
          execArgv: WebAssembly.validate(RELAXED_SIMD_PROBE) ? [] : ["--experimental-wasm-relaxed-simd"],
          env: { KORA_METRICS_EXPECT_FMA: "1" },
        },
      },
    ],
  },
});
