import { defineConfig } from "tsup";

export default defineConfig({
  // "index" is the browser-safe entry (synthetic suites, batching, image operations: no node: import); "node" holds
  // the file readers and the registry, which read files with node:fs / node:zlib.
  entry: ["src/index.ts", "src/node.ts"],
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
