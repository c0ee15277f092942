import { disposeModel } from "@kora/finetune";
import type { Output } from "../output/context";
import { openDatasetSplit, runDataset } from "../run/data";
import { evaluateModel, renderEvaluation } from "../run/evaluation";
import type { BackendInputs } from "../run/experiment";
import { openRunModel } from "../run/model";
import { useBackend } from "../support/backend";

/** Options of `kora eval`, as commander parses them. */
export interface EvalOptions extends BackendInputs {
  run: string;
  dataset?: string;
  root?: string;
  split?: string;
  batchSize: number;
  limit?: number;
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
    disposeModel(vit);
  }
}
