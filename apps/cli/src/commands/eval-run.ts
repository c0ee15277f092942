import type { Output } from "../output/context";
import { evaluationSplit, openDatasetSplit } from "../run/data";
import { evaluateModel, renderEvaluation } from "../run/evaluation";
import { openRunModel } from "../run/model";
import type { RunFile } from "../run/run-file";
import type { EvalOptions } from "./eval";
import { useBackend } from "./train-run";

/** The dataset split a command reads for a run: the flags, else the run's own dataset at its evaluation split. */
export function runDataset(
  run: RunFile,
  options: { dataset?: string; root?: string; split?: string },
): { name: string; root: string | undefined; split: string } {
  const name = options.dataset ?? run.dataset.name;
  const root = options.root ?? (options.dataset === undefined ? run.dataset.root : undefined);
  return { name, root, split: options.split ?? evaluationSplit(name) };
}

/** Runs `kora eval`. */
export async function runEval(options: EvalOptions, output: Output): Promise<void> {
  await useBackend(options, output);
  const { run, vit, task } = await openRunModel(options.run);
  try {
    const choice = runDataset(run, options);
    const dataset = await openDatasetSplit(choice);
    const report = await evaluateModel({ vit, task }, dataset, {
      batchSize: options.batchSize,
      limit: options.limit,
      output,
    });
    output.result(
      () => ({ run: options.run, ...report }),
      () => renderEvaluation(report, output),
    );
  } finally {
    vit.dispose();
  }
}
