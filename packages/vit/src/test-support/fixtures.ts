import { readSafetensors } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import { readFixture } from "../../../../fixtures/fixtures";

/** The golden vit-micro fixture: weights bytes, HF config, and the reference inputs/outputs. */
export function vitMicroFixture() {
  const weights = readFixture("vit", "vit-micro-hf.safetensors");
  const config = JSON.parse(
    new TextDecoder().decode(readFixture("vit", "vit-micro-hf.config.json")),
  ) as Record<string, unknown>;
  const io = readSafetensors(readFixture("vit", "vit-micro-hf.io.safetensors"), {
    asFloat32: true,
  }).tensors;
  return { weights, config, io };
}

/** Switches tfjs to `backend` ("cpu" or "wasm"; the wasm module loads from node_modules in Node). */
export async function useBackend(backend: "cpu" | "wasm"): Promise<void> {
  if (backend === "wasm") await import("@tensorflow/tfjs-backend-wasm");
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend ${backend} failed to initialise`);
  await tf.ready();
}

/** max |a − b| over all elements (shapes must be equal). */
export function maxAbsDiff(
  actual: tf.Tensor,
  expected: { shape: number[]; data: ArrayLike<number> },
): number {
  if (actual.shape.join() !== expected.shape.join()) {
    throw new Error(`shape [${actual.shape.join(", ")}] differs from [${expected.shape.join(", ")}]`);
  }
  const values = actual.dataSync();
  let max = 0;
  for (let i = 0; i < values.length; i++) {
    max = Math.max(max, Math.abs((values[i] as number) - (expected.data[i] as number)));
  }
  return max;
}
