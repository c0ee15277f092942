import { KoraError } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import type { TfjsErrorCode } from "../errors";

/**
 * The variables a training run optimises and checkpoints: an array (each keyed by its `variable.name`) or a record
 * of stable names. Names key optimizer state and checkpoint tensors, so give variables stable names (or use a
 * record) when checkpoints must be read by another process.
 */
export type TrainingVariables = readonly tf.Variable[] | Readonly<Record<string, tf.Variable>>;

/** Resolves {@link TrainingVariables} to an insertion-ordered name → variable map. */
export function namedVariables(variables: TrainingVariables): Map<string, tf.Variable> {
  const map = new Map<string, tf.Variable>();
  const entries: [string, tf.Variable][] = Array.isArray(variables)
    ? (variables as readonly tf.Variable[]).map((v) => [v?.name, v])
    : Object.entries(variables as Readonly<Record<string, tf.Variable>>);
  for (const [name, variable] of entries) {
    if (!(variable instanceof tf.Variable)) {
      throw new KoraError<TfjsErrorCode>({
        code: "INVALID_ARGUMENT",
        message: `variables${Array.isArray(variables) ? "" : `.${name}`} must be a tf.Variable`,
        path: "variables",
      });
    }
    if (map.has(name)) {
      throw new KoraError<TfjsErrorCode>({
        code: "INVALID_ARGUMENT",
        message: `variables: two variables are named "${name}"; names must be unique`,
        path: "variables",
      });
    }
    map.set(name, variable);
  }
  if (map.size === 0) {
    throw new KoraError<TfjsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: "variables must not be empty",
      path: "variables",
    });
  }
  return map;
}
