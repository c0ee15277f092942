import { defineConfig } from "vitest/config";

// Generous timeouts: CI runs on 2 shared cores, where a tfjs test can take several times its local time.
export default defineConfig({
  test: { include: ["src/**/*.test.ts"], testTimeout: 60_000, hookTimeout: 60_000 },
});
