import { defineConfig } from "tsup";

export default defineConfig({
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
  target: "es2022",
  external: [
    "@tensorflow/tfjs",
    "@tensorflow/tfjs-node",
    "@tensorflow/tfjs-node-gpu",
    "@tensorflow/tfjs-backend-wasm",
  ],
});
