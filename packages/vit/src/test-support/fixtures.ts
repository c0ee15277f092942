import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readSafetensors } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";

/** The `shared/fixtures` folder beside the repository root (CI places a copy of shared/ there). */
export function sharedFixturesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "pnpm-workspace.yaml"))) {
    const parent = resolve(dir, "..");
    if (parent === dir) throw new Error("repository root (pnpm-workspace.yaml) not found");
    dir = parent;
  }
  return resolve(dir, "..", "shared", "fixtures");
}

/** Bytes of a file under shared/fixtures. */
export function readSharedFixture(relative: string): Uint8Array {
  return new Uint8Array(readFileSync(join(sharedFixturesDir(), relative)));
}

/** The golden vit-micro fixture: weights bytes, HF config, and the reference inputs/outputs. */
export function vitMicroFixture() {
  const weights = readSharedFixture("vit/vit-micro-hf.safetensors");
  const config = JSON.parse(
    new TextDecoder().decode(readSharedFixture("vit/vit-micro-hf.config.json")),
  ) as Record<string, unknown>;
  const io = readSafetensors(readSharedFixture("vit/vit-micro-hf.io.safetensors"), {
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
