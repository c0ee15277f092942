import { defineConfig } from "tsup";

export default defineConfig({
  // "index" is the browser-safe entry (synthetic suites, batching, image operations: no node: import); "node" holds
  // the file readers and the registry, which read files with node:fs / node:zlib.
  entry: ["src/index.ts", "src/node.ts"],
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node20",
  platform: "node",
});
