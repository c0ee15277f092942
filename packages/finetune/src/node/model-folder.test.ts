import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KoraError, parseAdapterSpec } from "@kora/spec";
import type { ViT } from "@kora/vit";
import * as tf from "@tensorflow/tfjs";
import { afterAll, describe, expect, it } from "vitest";
import { disposeModel, prepareModel, type TrainingMethod } from "../model";
import { MODEL_FILES } from "../model-files";
import { classificationTask } from "../tasks/classification";
import { depthTask } from "../tasks/depth";
import type { Task } from "../tasks/task";
import { tinyViT } from "../test-support/tiny";
import { loadModel, saveModel } from "./model-folder";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function folder(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "kora-finetune-"));
  dirs.push(dir);
  return dir;
}

/** Moves every trainable variable away from its initial value, as training would. */
function perturb(vit: ViT): void {
  let k = 0;
  for (const variable of vit.trainableVariables()) {
    tf.tidy(() =>
      variable.assign(tf.add(variable, tf.randomNormal(variable.shape, 0, 0.05, "float32", 100 + k++))),
    );
  }
}

function output(vit: ViT, task: Task): Float32Array {
  const images = tf.randomNormal([2, 16, 16, 3], 0, 1, "float32", 7) as tf.Tensor4D;
  const values = tf.tidy(
    () => task.rawOutput(vit.forward(images, { format: "NHWC" })).dataSync() as Float32Array,
  );
  images.dispose();
  return Float32Array.from(values);
}

function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

const lora: TrainingMethod = {
  kind: "adapter",
  spec: parseAdapterSpec({ method: "lora", rank: 2, alpha: 4 }),
};

async function roundTrip(task: Task, method: TrainingMethod, files: string[]): Promise<void> {
  const trained = tinyViT(1);
  const handle = prepareModel(trained, task, method, 3);
  // LoRA's B starts at zero: give the adapter (and everything else that trains) values of its own.
  for (const [, variable] of handle?.adapterVariables() ?? []) {
    tf.tidy(() => variable.assign(tf.randomNormal(variable.shape, 0, 0.1, "float32", 42)));
  }
  perturb(trained);
  const dir = await folder();
  await saveModel(trained, dir, { metadata: { seed: "3" } });
  for (const file of files) expect(existsSync(join(dir, file)), file).toBe(true);
  const fresh = tinyViT(1);
  prepareModel(fresh, task, method, 99);
  expect(maxAbsDifference(output(fresh, task), output(trained, task))).toBeGreaterThan(1e-4);
  await loadModel(fresh, dir);
  expect(maxAbsDifference(output(fresh, task), output(trained, task))).toBeLessThan(1e-6);
  trained.dispose();
  fresh.dispose();
}

describe("saveModel / loadModel", () => {
  it("round-trips an adapter with its classification head (inside the adapter file)", async () => {
    await roundTrip(classificationTask({ classes: 5 }), lora, [
      MODEL_FILES.manifest,
      MODEL_FILES.adapterTensors,
    ]);
  });

  it("round-trips an adapter with a depth head (companion head file)", async () => {
    await roundTrip(depthTask(), lora, [MODEL_FILES.adapter, MODEL_FILES.head]);
  });

  it("round-trips a head-only run (head file, no adapter) and a full fine-tune (backbone file)", async () => {
    await roundTrip(classificationTask({ classes: 4 }), { kind: "head-only" }, [MODEL_FILES.head]);
    await roundTrip(depthTask(), { kind: "full" }, [MODEL_FILES.head, MODEL_FILES.backbone]);
  });

  it("refuses a folder without model.json (FILE_NOT_FOUND) and a head of another kind (INVALID_MODEL_FILE)", async () => {
    const vit = tinyViT(1);
    prepareModel(vit, depthTask(), { kind: "head-only" }, 0);
    const empty = await folder();
    await expect(loadModel(vit, empty)).rejects.toSatisfy(
      (error: unknown) => KoraError.isInstance(error) && error.code === "FILE_NOT_FOUND",
    );
    const dir = await folder();
    await saveModel(vit, dir);
    const other = tinyViT(1);
    prepareModel(other, classificationTask({ classes: 2 }), { kind: "head-only" }, 0);
    await expect(loadModel(other, dir)).rejects.toSatisfy(
      (error: unknown) => KoraError.isInstance(error) && error.code === "INVALID_MODEL_FILE",
    );
    vit.dispose();
    other.dispose();
  });
});

describe("disposeModel", () => {
  it("frees the adapter's variables as well as the backbone's and the head's", () => {
    const before = tf.memory().numTensors;
    const vit = tinyViT(1);
    prepareModel(vit, depthTask(), lora, 0);
    expect(tf.memory().numTensors).toBeGreaterThan(before);
    disposeModel(vit);
    expect(tf.memory().numTensors).toBe(before);
  });
});
