import type { TaskName } from "../config/schema";
import type { TaskContext } from "./context";
import { segmentSteps } from "./segment";

export { runCka } from "./cka";
export { runCompress } from "./compress";
export { runDense } from "./dense";
export { runSegment, segmentSteps } from "./segment";
export { runSource } from "./source";
export { runTransfer } from "./transfer";
export type { CurvePoint, RunRequest, TaskOutput } from "./types";

/** Number of optimizer steps a run will make (for the plan's ETA). */
export function plannedSteps(context: TaskContext, task: TaskName): number {
  const { preset } = context;
  switch (task) {
    case "source":
      return preset.source.steps ?? (preset.source.epochs ?? 1) * 100;
    case "transfer": {
      const items =
        preset.target.count ?? Math.round((preset.target.trainSize ?? 100_000) * preset.target.fraction);
      return Math.max(1, Math.ceil(items / preset.batchSize)) * preset.target.epochs;
    }
    case "dense":
      return (
        preset.depth.steps ??
        Math.max(1, Math.ceil(((preset.depth.trainSize ?? 795) * preset.depth.fraction) / preset.batchSize)) *
          preset.depth.epochs
      );
    case "segment":
      return segmentSteps(preset);
    case "cka":
    case "compress":
      return 1;
  }
}
