import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    // The wasm backend is one per process; tests that train run in their own forks.
    pool: "forks",
  },
});
