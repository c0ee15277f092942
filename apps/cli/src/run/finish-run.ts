import { join } from "node:path";
import { countTrainable } from "@kora/finetune";
import { type AdapterSpec, KoraError } from "@kora/spec";
import type { ViT } from "@kora/vit";
import type { Output } from "../output/context";
import { formatInteger, formatPercent, renderFields } from "../output/table";
import { InterruptedError } from "../support/errors";
import { type FitResult, lastCheckpoint } from "./fit";
import { saveRunModel } from "./model";
import { RUN_FILES, type RunFile, writeRunFile } from "./run-file";

/** One-line parameter summary of an adapted model (`@kora/finetune`'s exact counts, a depth head included). */
export function parameterLine(spec: AdapterSpec, vit: ViT): string {
  const { trainable, total, fraction } = countTrainable(vit, { kind: "adapter", spec });
  return `${formatInteger(trainable)} of ${formatInteger(total)} parameters train (${formatPercent(fraction)})`;
}

/**
 * Runs a fit of `run` and, when it fails, records that in `run.json` (status `interrupted`, never left
 * `running`, the error, and as `step` the step of the newest complete checkpoint) before passing the error on,
 * with what to do next: after `DISK_FULL` / `IO_ERROR` the last complete checkpoint is intact and `--resume`
 * continues from it; after `CHECKPOINT_CORRUPT` / `CHECKPOINT_MISMATCH` the folder's checkpoints cannot continue
 * this run, so a new `--out` is the way on.
 */
export async function recordFailure<T>(
  run: RunFile,
  out: string,
  command: "train" | "transfer",
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const code = KoraError.isInstance(error) ? error.code : "UNEXPECTED";
    const message = error instanceof Error ? error.message : String(error);
    run.status = "interrupted";
    run.failure = { code, message, at: new Date().toISOString() };
    // The run stands where its newest complete checkpoint is: that is where --resume continues (the steps made
    // after it are made again). Not when the folder's checkpoints cannot continue this run.
    if (code !== "CHECKPOINT_CORRUPT" && code !== "CHECKPOINT_MISMATCH") {
      run.step = (await lastCheckpoint(join(out, RUN_FILES.checkpoints)))?.step ?? run.step;
    }
    let recorded = true;
    try {
      await writeRunFile(out, run);
    } catch {
      recorded = false; // e.g. the disk is still full: the error below says so
    }
    if (!KoraError.isInstance(error)) throw error;
    const resume = `kora ${command} --resume ${command === "train" ? `--out ${out}` : "… (the same flags)"}`;
    const advice: Record<string, string> = {
      DISK_FULL: `free some space, then continue with '${resume}'`,
      IO_ERROR: `fix the cause, then continue with '${resume}'`,
      CHECKPOINT_CORRUPT: `this run cannot continue from ${join(out, RUN_FILES.checkpoints)}; start it again with another --out`,
      CHECKPOINT_MISMATCH: `the checkpoints in ${join(out, RUN_FILES.checkpoints)} belong to another run; start this one with another --out`,
    };
    const next = advice[error.code];
    if (next === undefined) throw error;
    throw new KoraError({
      code: error.code,
      message: `${message}; ${recorded ? `${RUN_FILES.run} marked interrupted` : `${RUN_FILES.run} could not be updated`}; ${next}`,
      ...(error.path === undefined ? {} : { path: error.path }),
      cause: error,
    });
  }
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
