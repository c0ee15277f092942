// The one @tensorflow/tfjs instance the built packages use (resolved from packages/tfjs, as its dist resolves it).
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const require = createRequire(new URL("../../packages/tfjs/package.json", import.meta.url));

/** Imports the `@tensorflow/tfjs` module that `packages/tfjs/dist` imports (same file, so the same engine). */
export async function tfjsModule() {
  return import(pathToFileURL(require.resolve("@tensorflow/tfjs")).href);
}
