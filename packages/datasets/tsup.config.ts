import { defineConfig } from "tsup";

export default defineConfig({
  // "index" is the full Node entry (file readers use node:fs / node:zlib); "core" holds the synthetic suites and
  // the pipeline pieces, which import nothing from node: and so also run in a browser or a worker.
  entry: ["src/index.ts", "src/core.ts"],
  format: ["esm", "cjs"],
  dts: true,
  // Maps point into the src/ that the tarball ships, so they carry no copy of it (sourcesContent would put the
  // TypeScript source in each of the ESM and CJS maps, half of every tarball).
  sourcemap: true,
  esbuildOptions(options) {
    options.sourcesContent = false;
  },
  clean: true,
  target: "node20",
  platform: "node",
});
