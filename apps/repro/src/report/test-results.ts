// Synthetic run results for the report's tests (never imported by the harness itself).
import type { Preset } from "../config/presets";
import type { Experiment } from "../config/schema";
import { runKey } from "../plan";
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
  const key = runKey(preset, variant.task, variant.method, variant.shuffleLabels, seed);
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
