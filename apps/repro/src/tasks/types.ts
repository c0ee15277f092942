import type { TaskName, TrainingMethod } from "../config/schema";

/** One point of a training curve. */
export interface CurvePoint {
  step: number;
  loss: number;
}

/** What a task returns (the runner adds identity, timings and provenance). */
export interface TaskOutput {
  metrics: Record<string, number | null>;
  curve: CurvePoint[];
  /** Task-specific data (CKA matrices, chance level, subset sizes). */
  extra: Record<string, unknown>;
  trainSeconds: number;
  evalSeconds: number;
}

/** A run as the tasks see it. */
export interface RunRequest {
  key: string;
  task: TaskName;
  method: TrainingMethod;
  seed: number;
  shuffleLabels: boolean;
  /** Transfer only: how the source run is used (see the experiment schema). */
  protocol: "source-adapted" | "fresh" | "upstream";
  /** Training options beside the recipe. */
  training?: { gateLearningRateMultiplier: number } | undefined;
  /** For transfer / cka: the key of the source run whose weights are loaded. */
  sourceKey: string | null;
}
