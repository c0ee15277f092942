import { defineConfig } from "tsup";

export default defineConfig({
  // dist/cli.js is the executable (src/cli.ts keeps its `#!/usr/bin/env node` line; tsup preserves a leading
  // shebang and marks the file executable). dist/program.js exports `main(argv, streams)` so the tests can drive the
  // built program in-process as well as by spawning the binary. Command implementations are imported on demand
  // (code-split chunks), so `kora --help` does not load the packages. Dependencies stay external.
  entry: ["src/cli.ts", "src/program.ts"],
  format: ["esm"],
  dts: false,
  sourcemap: true,
  clean: true,
  splitting: true,
  target: "node20",
  platform: "node",
});
