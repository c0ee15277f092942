import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    // End-to-end tests spawn dist/cli.js; the global setup builds it when it is missing or older than src/.
    globalSetup: ["./src/test-support/build-once.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
