import { defineConfig } from "tsup";

export default defineConfig({
  // dist/cli.js is the executable (src/cli.ts starts with `#!/usr/bin/env node`; tsup keeps it and marks the file
  // executable). dist/index.js exports `runRepro` so tests drive the harness in-process. Dependencies stay external.
  entry: ["src/cli.ts", "src/index.ts"],
  format: ["esm"],
  dts: false,
  sourcemap: true,
  clean: true,
  splitting: true,
  target: "node20",
  platform: "node",
});
