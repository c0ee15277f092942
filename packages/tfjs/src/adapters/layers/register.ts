import * as tf from "@tensorflow/tfjs";
import { KoraValueDense } from "./kora-dense";
import { LoraDense } from "./lora-dense";

let registered = false;

/**
 * Registers {@link LoraDense} (`KoraLoraDense`) and {@link KoraValueDense} with `tf.serialization`, so
 * `tf.loadLayersModel` can rebuild models that contain them. Idempotent; the wrapping functions call it, and a
 * program that only loads a saved model calls it once before `tf.loadLayersModel`.
 */
export function registerAdapterLayers(): void {
  if (registered) return;
  tf.serialization.registerClass(LoraDense);
  tf.serialization.registerClass(KoraValueDense);
  registered = true;
}

// Registered on import as well (as tfjs registers its own layers), so `tf.loadLayersModel` finds the classes in
// a program that imports @kora/tfjs but never wraps a model itself.
registerAdapterLayers();
