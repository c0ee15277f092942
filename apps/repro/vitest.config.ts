import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    testTimeout: 30_000,
    // The wasm backend is one per process; tests that train run in their own forks.
    pool: "forks",
  },
});
