import { KoraError } from "@kora/spec";
import { describe, expect, it } from "vitest";
import { finetune } from "./fit";
import { disposeModel, modelVariables, prepareModel } from "./model";
import { classificationTask } from "./tasks/classification";
import { tinyClassification, tinyViT } from "./test-support/tiny";

/** One step of full fine-tuning from the same start; every variable's values after it, by name. */
async function fullStep(learningRate: number, headLearningRate?: number) {
  const vit = tinyViT(1);
  const task = classificationTask({ classes: 10 });
  prepareModel(vit, task, { kind: "full" }, 3);
  const head = new Set(vit.head?.namedParameters().map((p) => p.name));
  await finetune({
    vit,
    task,
    dataset: tinyClassification(8),
    batchSize: 8,
    steps: 1,
    learningRate,
    seed: 3,
    ...(headLearningRate === undefined ? {} : { headLearningRate }),
  });
  const after = new Map([...modelVariables(vit)].map(([name, v]) => [name, Array.from(v.dataSync())]));
  disposeModel(vit);
  return { after, head };
}

describe("headLearningRate", () => {
  it("moves the head as a run at that rate would and every backbone weight as the run's own rate does", async () => {
    // The gradients of a first step do not depend on the rates, and AdamW updates each variable from its own
    // gradient and rate, so the split run must agree exactly with each single-rate run on its part.
    const split = await fullStep(1e-4, 1e-2);
    const slow = await fullStep(1e-4);
    const fast = await fullStep(1e-2);
    expect(split.head.size).toBe(2);
    for (const [name, values] of split.after) {
      const expected = (split.head.has(name) ? fast : slow).after.get(name);
      expect(values, name).toEqual(expected);
    }
    // And the head did move differently from the slow run's (the option did something).
    const weight = [...split.head][0] as string;
    expect(split.after.get(weight)).not.toEqual(slow.after.get(weight));
  }, 60_000);

  it("rejects a rate that is not a positive finite number (INVALID_ARGUMENT naming headLearningRate)", async () => {
    const vit = tinyViT(1);
    const task = classificationTask({ classes: 10 });
    prepareModel(vit, task, { kind: "full" }, 0);
    const base = {
      vit,
      task,
      dataset: tinyClassification(8),
      batchSize: 4,
      learningRate: 1e-3,
      seed: 0,
      steps: 1,
    };
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(finetune({ ...base, headLearningRate: bad })).rejects.toSatisfy(
        (error: unknown) => KoraError.isInstance(error) && error.path === "headLearningRate",
      );
    }
    disposeModel(vit);
  });
});
