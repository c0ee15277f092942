import { selectBackend } from "@kora/tfjs";
import type { Output } from "../output/context";
import type { BackendInputs } from "../run/experiment";

/** Selects the tfjs backend (`--backend`, `--threads`); the "using …" line only with --verbose. */
export async function useBackend({ backend, threads }: BackendInputs, output: Output): Promise<void> {
  await selectBackend({
    ...(backend === undefined ? {} : { prefer: backend }),
    ...(threads === undefined ? {} : { threads }),
    log: (message) => {
      if (output.verbose) output.note(message);
    },
  });
}
