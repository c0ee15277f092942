import { defineConfig } from "tsup";

export default defineConfig({
  // dist/cli.js is the executable (src/cli.ts starts with `#!/usr/bin/env node`; tsup keeps it and marks the file
  // executable). dist/index.js exports `runRepro` so tests drive the harness in-process. dist/audit.js is the paper
  // audit alone, for docs/scripts/paper-audit.mjs (no tfjs behind it). Dependencies stay external.
  entry: { cli: "src/cli.ts", index: "src/index.ts", audit: "src/report/audit.ts" },
  format: ["esm"],
  dts: false,
  sourcemap: true,
  clean: true,
  splitting: true,
  target: "node20",
  platform: "node",
});
