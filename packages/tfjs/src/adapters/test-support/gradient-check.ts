import * as tf from "@tensorflow/tfjs";

/** The outcome of checking one variable's gradient. */
export interface GradientCheckResult {
  /** Variable name. */
  name: string;
  /** Analytic directional derivative `g·u` along a seeded unit direction `u`. */
  directional: number;
  /** Central finite difference along `u`. */
  directionalFd: number;
  /** Largest `|g_i − fd_i| / max(|g_i|, |fd_i|, floor)` over the sampled entries. */
  worstEntryError: number;
  /** Largest `|g_i − fd_i|` over the sampled entries. */
  worstEntryAbs: number;
  /** Sampled entries' analytic gradients (for a non-triviality check). */
  entryGradients: number[];
}

/** Options of {@link checkGradients}. */
export interface GradientCheckOptions {
  /** Finite-difference step ε. */
  epsilon: number;
  /**
   * Richardson extrapolation: `fd = (4·D(ε/2) − D(ε)) / 3` with `D(h)` the central difference of step h, which
   * cancels the O(ε²) truncation term of the central difference (its error becomes O(ε⁴)).
   */
  richardson: boolean;
  /** Entries sampled per variable for the elementwise comparison. */
  entries: number;
  /** Denominator floor of the relative error. */
  floor: number;
  /** Seed of directions and sampled entries. */
  seed: number;
}

/**
 * Compares analytic gradients of `loss` w.r.t. `variables` with central finite differences in float32: for each
 * variable, once along a seeded random unit direction (covers every entry) and at `entries` sampled entries.
 */
export function checkGradients(
  loss: () => tf.Scalar,
  variables: tf.Variable[],
  options: GradientCheckOptions,
): GradientCheckResult[] {
  const { grads } = tf.variableGrads(loss, variables);
  const evaluate = () => tf.tidy(() => loss().dataSync()[0] as number);
  const results: GradientCheckResult[] = [];
  let random = options.seed;
  const next = () => {
    random = (random * 1103515245 + 12345) % 2147483648;
    return random / 2147483648;
  };
  for (const [index, variable] of variables.entries()) {
    const gradient = grads[variable.name];
    if (gradient === undefined) throw new Error(`no gradient for ${variable.name}`);
    const g = gradient.dataSync();
    const original = variable.clone();
    const shifted = (delta: tf.Tensor) => {
      tf.tidy(() => variable.assign(tf.add(original, delta)));
      return evaluate();
    };
    const direction = tf.tidy(() => {
      const u = tf.randomNormal(variable.shape, 0, 1, "float32", options.seed * 31 + index);
      return tf.div(u, tf.norm(u));
    });
    const directional = tf.tidy(() => tf.sum(tf.mul(gradient, direction)).dataSync()[0] as number);
    const central = (delta: (step: number) => tf.Tensor): number => {
      const at = (step: number) => {
        const d = delta(step);
        const value = shifted(d);
        d.dispose();
        return value;
      };
      const difference = (h: number) => (at(h) - at(-h)) / (2 * h);
      const coarse = difference(options.epsilon);
      return options.richardson ? (4 * difference(options.epsilon / 2) - coarse) / 3 : coarse;
    };
    const directionalFd = central((step) => tf.mul(direction, step));
    let worstEntryError = 0;
    let worstEntryAbs = 0;
    const entryGradients: number[] = [];
    const size = variable.size;
    const picks = new Set<number>();
    while (picks.size < Math.min(options.entries, size)) picks.add(Math.floor(next() * size));
    for (const entry of picks) {
      const fd = central((step) => {
        const buffer = tf.buffer(variable.shape);
        buffer.values[entry] = step;
        return buffer.toTensor();
      });
      const analytic = g[entry] as number;
      entryGradients.push(analytic);
      const abs = Math.abs(analytic - fd);
      worstEntryAbs = Math.max(worstEntryAbs, abs);
      worstEntryError = Math.max(
        worstEntryError,
        abs / Math.max(Math.abs(analytic), Math.abs(fd), options.floor),
      );
    }
    variable.assign(original);
    tf.dispose([original, direction]);
    results.push({
      name: variable.name,
      directional,
      directionalFd,
      worstEntryError,
      worstEntryAbs,
      entryGradients,
    });
  }
  tf.dispose(grads);
  return results;
}
