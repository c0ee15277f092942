// ESM-only dependencies are loaded with a real dynamic import() so the CommonJS build can use them too
// (require() of an ES module is not available on every Node version this package supports).
import type * as FastPng from "fast-png";
import type * as H5Wasm from "h5wasm";
import { importOptionalPeer, type OptionalPeer } from "./optional-peer";

let fastPng: Promise<typeof FastPng> | undefined;
let h5wasm: Promise<typeof H5Wasm> | undefined;

/** @internal Loads fast-png once. */
export function loadFastPng(): Promise<typeof FastPng> {
  fastPng ??= import("fast-png");
  return fastPng;
}

/**
 * h5wasm (15 MB of WebAssembly and JavaScript) serves only the NYU Depth V2 `.mat` reader, so it is an optional
 * peer dependency: installed by those who read `.mat` files, not by everyone who installs `@kora/datasets`.
 * @internal
 */
export const H5WASM_PEER: OptionalPeer = {
  name: "h5wasm",
  range: "^0.10.3",
  purpose: 'reading a MATLAB v7.3 .mat file (NYU Depth V2 "nyu_depth_v2_labeled.mat")',
};

/**
 * @internal Loads the Node build of h5wasm (which reads files from disk lazily) once and waits for its WASM;
 * `MISSING_DEPENDENCY` when h5wasm is not installed. `load` replaces the import in tests.
 */
export function loadH5Wasm(
  load: () => Promise<typeof H5Wasm> = () => import("h5wasm/node"),
): Promise<typeof H5Wasm> {
  h5wasm ??= importOptionalPeer(H5WASM_PEER, load).then(
    async (module) => {
      await module.ready;
      return module;
    },
    (error: unknown) => {
      // Not cached: the next .mat file is tried again (e.g. after `npm install h5wasm` in a long-lived process).
      h5wasm = undefined;
      throw error;
    },
  );
  return h5wasm;
}
