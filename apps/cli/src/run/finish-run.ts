import { join } from "node:path";
import { countTrainable } from "@kora/finetune";
import type { AdapterSpec } from "@kora/spec";
import type { ViT } from "@kora/vit";
import type { Output } from "../output/context";
import { formatInteger, formatPercent, renderFields } from "../output/table";
import { InterruptedError } from "../support/errors";
import type { FitResult } from "./fit";
import { saveRunModel } from "./model";
import { RUN_FILES, type RunFile, writeRunFile } from "./run-file";

/** One-line parameter summary of an adapted model (`@kora/finetune`'s exact counts, a depth head included). */
export function parameterLine(spec: AdapterSpec, vit: ViT): string {
  const { trainable, total, fraction } = countTrainable(vit, { kind: "adapter", spec });
  return `${formatInteger(trainable)} of ${formatInteger(total)} parameters train (${formatPercent(fraction)})`;
}

/**
 * Records the end of a fit in `run.json`: on Ctrl-C the status `interrupted` and an {@link InterruptedError}
 * (exit 130) saying how to continue; otherwise the final adapter at the top of the run folder and `completed`.
 */
export async function finishRun(
  run: RunFile,
  outcome: FitResult,
  out: string,
  vit: ViT,
  output: Output,
  command: "train" | "transfer",
  extra: () => Promise<{ json: Record<string, unknown>; fields: [string, string][] } | null> = async () =>
    null,
): Promise<void> {
  run.totalSteps = outcome.totalSteps;
  if (outcome.interrupted !== null) {
    run.status = "interrupted";
    run.step = outcome.interrupted.step;
    await writeRunFile(out, run);
    throw new InterruptedError(
      `interrupted at step ${outcome.interrupted.step} of ${outcome.totalSteps}; checkpoint ${outcome.interrupted.checkpoint ?? "(none)"}; continue with 'kora ${command} --resume ${command === "train" ? `--out ${out}` : "… (the same flags)"}'`,
    );
  }
  const result = outcome.result!;
  run.step = result.step;
  run.loss = result.loss ?? run.loss;
  // No path in the metadata: the same run gives the same bytes wherever it is written, and a shared adapter
  // does not leak where it was trained.
  await saveRunModel(vit, out, { dataset: run.dataset.name, seed: String(run.training.seed) });
  const more = await extra();
  run.status = "completed";
  if (more !== null) run.evaluation = more.json;
  await writeRunFile(out, run);
  output.result(
    () => ({
      run: out,
      status: run.status,
      step: run.step,
      totalSteps: run.totalSteps,
      loss: run.loss,
      resumedFrom: result.resumedFrom,
      adapter: join(out, RUN_FILES.adapter),
      checkpoint: result.checkpoint,
      ...(more === null ? {} : { evaluation: more.json }),
    }),
    () =>
      renderFields(
        [
          ["run", out],
          [
            "steps",
            `${run.step} of ${run.totalSteps}${result.resumedFrom === null ? "" : ` (resumed from ${result.resumedFrom})`}`,
          ],
          ["loss", run.loss === null ? "-" : run.loss.toFixed(4)],
          ["adapter", `${join(out, RUN_FILES.adapter)} + ${RUN_FILES.adapterTensors}`],
          ["checkpoint", result.checkpoint ?? "-"],
          ["metrics", join(out, RUN_FILES.metrics)],
          ...(more?.fields ?? []),
        ],
        (t) => output.style("bold", t),
      ),
  );
}
