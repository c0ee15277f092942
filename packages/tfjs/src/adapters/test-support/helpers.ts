import * as tf from "@tensorflow/tfjs";
import type { AdapterHandle } from "../adapter-handle";

/** Largest absolute difference of two tensors. */
export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);
}

/** Overwrites every variable of an adapter with seeded `N(0, std²)` values (a non-trivial trained state). */
export function randomizeAdapter(handle: AdapterHandle, seed: number, std = 0.3, name?: string): void {
  let i = 0;
  for (const variable of handle.adapterVariables(name).values()) {
    tf.tidy(() => variable.assign(tf.randomNormal(variable.shape, 0, std, "float32", seed * 1000 + i++)));
  }
}

/** Total number of elements of a list of variables. */
export function sizeOf(variables: readonly tf.Variable[]): number {
  return variables.reduce((sum, v) => sum + v.size, 0);
}
