// Synthetic run results for the report's tests (never imported by the harness itself).

import { parseExperiment } from "../config/experiments";
import type { Preset } from "../config/presets";
import type { Experiment } from "../config/schema";
import { variantKey } from "../plan";
import type { RunResult } from "../results";

/** A result for a variant of an experiment at a seed, with the given metrics. */
export function fakeResult(
  preset: Preset,
  experiment: Experiment,
  variantId: string,
  seed: number,
  metrics: Record<string, number>,
  extra: Record<string, unknown> = {},
  status: RunResult["status"] = "ok",
): RunResult {
  const variant = experiment.variants.find((v) => v.id === variantId)!;
  const key = variantKey(preset, variant, seed);
  return {
    format: 1,
    key,
    name: key,
    status,
    task: variant.task,
    method: variant.method,
    seed,
    shuffleLabels: variant.shuffleLabels,
    sourceKey: null,
    usedBy: [],
    preset: { name: preset.name, config: {} },
    git: { commit: null, dirty: null },
    backend: "wasm",
    node: "v20",
    startedAt: "",
    finishedAt: "",
    timings: { totalSeconds: 1, trainSeconds: 1, evalSeconds: 0 },
    metrics,
    curve: [
      { step: 1, loss: 2 + seed },
      { step: 2, loss: 1 + seed },
    ],
    extra,
    error: status === "failed" ? { message: "boom", code: "X", stack: null } : null,
  };
}

const METHODS = {
  lora: { kind: "adapter", adapter: { method: "lora", rank: 8 } },
  kora4: { kind: "adapter", adapter: { method: "kora" } },
  kora8: { kind: "adapter", adapter: { method: "kora", composition: { hidden: 8 } } },
  headOnly: { kind: "head-only" },
} as const;

function experiment(json: Record<string, unknown>): Experiment {
  return parseExperiment(JSON.stringify(json), `${String(json["id"])}.json`);
}

/**
 * Experiments shaped like the shipped ones, defined here so the report's tests do not depend on the experiment
 * files (which change as the harness grows): 4.1 (three source rows), 4.3 (two CKA rows), 4.4 (two depth rows)
 * and "mixed" (source and transfer rows in one table, with a label-shuffled transfer control).
 */
export function syntheticExperiments(): Record<"4.1" | "4.3" | "4.4" | "mixed", Experiment> {
  const base = { title: "t", description: "d", curves: true };
  return {
    "4.1": experiment({
      ...base,
      id: "4.1",
      title: "4.1 In-domain",
      claims: "4.1",
      metrics: ["accuracy", "macroF1", "ckaSim"],
      variants: [
        { id: "lora-r8", label: "LoRA (r=8)", task: "source", method: METHODS.lora, claim: "LoRA (r=8)" },
        {
          id: "kora-dcomp4",
          label: "KoRA (d_comp=4)",
          task: "source",
          method: METHODS.kora4,
          claim: "KoRA (d_comp=4)",
        },
        {
          id: "kora-dcomp8",
          label: "KoRA (d_comp=8)",
          task: "source",
          method: METHODS.kora8,
          claim: "KoRA (d_comp=8)",
        },
      ],
    }),
    "4.3": experiment({
      ...base,
      id: "4.3",
      curves: false,
      heatmaps: true,
      claims: "4.3",
      metrics: ["distantCka"],
      variants: [
        { id: "kora-dcomp4", label: "KoRA", task: "cka", method: METHODS.kora4, claim: "KoRA" },
        { id: "lora-r8", label: "LoRA", task: "cka", method: METHODS.lora, claim: "LoRA" },
      ],
    }),
    "4.4": experiment({
      ...base,
      id: "4.4",
      claims: "4.4",
      metrics: ["rmse", "absRel"],
      variants: [
        { id: "lora-r8", label: "LoRA", task: "dense", method: METHODS.lora, claim: "LoRA" },
        { id: "kora-dcomp4", label: "KoRA", task: "dense", method: METHODS.kora4, claim: "KoRA" },
      ],
    }),
    mixed: experiment({
      ...base,
      id: "mixed",
      metrics: ["accuracy"],
      variants: [
        { id: "head-only", label: "Head only", task: "source", method: METHODS.headOnly },
        { id: "lora-r8", label: "LoRA (r=8)", task: "source", method: METHODS.lora },
        {
          id: "head-only-transfer",
          label: "Head only, transfer",
          task: "transfer",
          method: METHODS.headOnly,
        },
        {
          id: "lora-r8-shuffled",
          label: "LoRA (r=8), shuffled target labels & a long legend label",
          task: "transfer",
          method: METHODS.lora,
          shuffleLabels: true,
        },
      ],
    }),
  };
}
