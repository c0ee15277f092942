import { KoraError, parseAdapterSpec } from "@kora/spec";
import { describe, expect, it } from "vitest";
import { finetune } from "./fit";
import { disposeModel, modelVariables, prepareModel, type TrainingMethod } from "./model";
import { classificationTask } from "./tasks/classification";
import { tinyClassification, tinyViT } from "./test-support/tiny";

/** How far every variable moved in one step from the same start, by name. */
async function oneStep(method: TrainingMethod, layerDecay?: number) {
  const vit = tinyViT(1);
  const task = classificationTask({ classes: 10 });
  prepareModel(vit, task, method, 3);
  const before = new Map([...modelVariables(vit)].map(([name, v]) => [name, Array.from(v.dataSync())]));
  await finetune({
    vit,
    task,
    dataset: tinyClassification(8),
    batchSize: 8,
    steps: 1,
    learningRate: 1e-3,
    seed: 3,
    ...(layerDecay === undefined ? {} : { layerDecay }),
  });
  const moved = new Map(
    [...modelVariables(vit)].map(([name, v]) => {
      const start = before.get(name) as number[];
      return [name, Array.from(v.dataSync(), (value, i) => value - (start[i] as number))];
    }),
  );
  const depth = vit.config.depth;
  disposeModel(vit);
  return { moved, depth };
}

/** The scale layer-wise decay 0.5 should give a variable of a depth-2 model. */
function expectedScale(name: string, depth: number): number {
  if (name.startsWith("vit.embeddings.")) return 0.5 ** (depth + 1);
  const block = /^(?:vit\.encoder\.layer|adapter\.layers)\.(\d+)\./.exec(name);
  return block === null ? 1 : 0.5 ** (depth - Number(block[1]));
}

/**
 * AdamW's step is lr·scale·(m̂/(√v̂ + ε) + λ·w): every term is proportional to the variable's rate, so each element's
 * step with decay over its step without is the variable's scale, whatever its gradient.
 */
function checkScales(
  plain: Map<string, number[]>,
  decayed: Map<string, number[]>,
  depth: number,
): Set<number> {
  const scales = new Set<number>();
  for (const [name, steps] of plain) {
    const scale = expectedScale(name, depth);
    if (steps.some((step) => step !== 0)) scales.add(scale); // frozen backbone weights stay where they were
    const other = decayed.get(name) as number[];
    steps.forEach((step, i) => {
      // Float32 rounds w − step at |w|·6e-8: a step of ≥ 5e-5 on a weight of |w| ≤ 1 keeps the ratio within 0.2 %.
      // Smaller steps are weight decay alone (LoRA's A has no gradient while B = 0); their ratio is rounding.
      if (Math.abs(step) > 5e-5) expect((other[i] as number) / step, name).toBeCloseTo(scale, 2);
    });
  }
  return scales;
}

describe("layerDecay", () => {
  it("full fine-tuning: block i at decay^(L − i), embeddings at decay^(L + 1), final norm and head at 1", async () => {
    const plain = await oneStep({ kind: "full" });
    const decayed = await oneStep({ kind: "full" }, 0.5);
    expect(plain.depth).toBe(2);
    expect([...checkScales(plain.moved, decayed.moved, plain.depth)].sort()).toEqual([0.125, 0.25, 0.5, 1]);
  }, 60_000);

  it("an adapter's block i trains at its block's scale, the head at 1", async () => {
    const kora = { kind: "adapter" as const, spec: parseAdapterSpec({ method: "kora", rank: 2 }) };
    const plain = await oneStep(kora);
    const decayed = await oneStep(kora, 0.5);
    expect([...checkScales(plain.moved, decayed.moved, plain.depth)].sort()).toEqual([0.25, 0.5, 1]);
  }, 60_000);

  it("rejects a decay outside (0, 1] (INVALID_ARGUMENT naming layerDecay)", async () => {
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
    for (const bad of [0, -0.5, 1.5, Number.NaN]) {
      await expect(finetune({ ...base, layerDecay: bad })).rejects.toSatisfy(
        (error: unknown) => KoraError.isInstance(error) && error.path === "layerDecay",
      );
    }
    disposeModel(vit);
  });
});
