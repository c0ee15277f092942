import { selectBackend } from "@kora/tfjs";
import * as tf from "@tensorflow/tfjs";
import type { Output } from "../output/context";
import type { BackendInputs } from "../run/experiment";

/**
 * Silences tfjs's console banners unless `--verbose`: on the cpu backend in Node it tells users to install
 * tfjs-node, which `kora backend` already reports on (and which cannot be installed on many machines). tfjs's
 * `PROD` flag only gates its `warn`/`log` output in 4.x; no check is turned off by it.
 */
export function quietTfjs(output: Output): void {
  if (!output.verbose) tf.env().set("PROD", true);
}

/** Selects the tfjs backend (`--backend`, `--threads`); the "using …" line only with --verbose. */
export async function useBackend({ backend, threads }: BackendInputs, output: Output): Promise<void> {
  quietTfjs(output);
  await selectBackend({
    ...(backend === undefined ? {} : { prefer: backend }),
    ...(threads === undefined ? {} : { threads }),
    log: (message) => {
      if (output.verbose) output.note(message);
    },
  });
}
