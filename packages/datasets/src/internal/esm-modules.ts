// ESM-only dependencies are loaded with a real dynamic import() so the CommonJS build can use them too
// (require() of an ES module is not available on every Node version this package supports).
import type * as FastPng from "fast-png";
import type * as H5Wasm from "h5wasm";

let fastPng: Promise<typeof FastPng> | undefined;
let h5wasm: Promise<typeof H5Wasm> | undefined;

/** @internal Loads fast-png once. */
export function loadFastPng(): Promise<typeof FastPng> {
  fastPng ??= import("fast-png");
  return fastPng;
}

/** @internal Loads the Node build of h5wasm (which reads files from disk lazily) once and waits for its WASM. */
export function loadH5Wasm(): Promise<typeof H5Wasm> {
  h5wasm ??= import("h5wasm/node").then(async (module) => {
    await module.ready;
    return module;
  });
  return h5wasm;
}
