import * as tf from "@tensorflow/tfjs";
import { KoraValueDense } from "./kora-dense";
import { LoraDense } from "./lora-dense";

let registered = false;

/**
 * Registers {@link LoraDense} (`KoraLoraDense`) and {@link KoraValueDense} with `tf.serialization`, so
 * `tf.loadLayersModel` can rebuild models that contain them. Idempotent; the wrapping functions call it, and a
 * program that only loads a saved model calls it once before `tf.loadLayersModel`.
 *
 * Importing `@kora/tfjs` registers nothing (the package is `"sideEffects": false`, so a bundler may drop an import
 * whose bindings are unused, and an import-time registration would then silently not happen).
 */
export function registerAdapterLayers(): void {
  if (registered) return;
  tf.serialization.registerClass(LoraDense);
  tf.serialization.registerClass(KoraValueDense);
  registered = true;
}
