import { KoraError } from "../errors";
import type { MetricsErrorCode } from "../errors/kora-error";

/**
 * Holm's step-down adjustment of p-values for multiple comparisons (Holm, *A Simple Sequentially Rejective
 * Multiple Test Procedure*, Scand. J. Statist. 1979): sorted ascending, the k-th smallest (1-based) of m becomes
 * max over j ≤ k of min(1, (m − j + 1) · p₍ⱼ₎). Rejecting where the adjusted p < α controls the family-wise
 * error rate at α. Returned in the input's order; ties keep their order.
 *
 * @throws KoraError `NON_FINITE` (NaN), `INVALID_ARGUMENT` (a p outside [0, 1]).
 *
 * @example
 * ```ts
 * holm([0.01, 0.04, 0.03]); // [0.03, 0.06, 0.06]
 * ```
 */
export function holm(pValues: ArrayLike<number>): number[] {
  const m = pValues.length;
  for (let i = 0; i < m; i++) {
    const p = pValues[i];
    if (typeof p !== "number" || Number.isNaN(p)) {
      throw new KoraError<MetricsErrorCode>({
        code: "NON_FINITE",
        message: `pValues[${i}] must be a number, got ${String(p)}`,
        path: `pValues[${i}]`,
      });
    }
    if (p < 0 || p > 1) {
      throw new KoraError<MetricsErrorCode>({
        code: "INVALID_ARGUMENT",
        message: `pValues[${i}] must be a probability in [0, 1], got ${p}`,
        path: `pValues[${i}]`,
      });
    }
  }
  const order = Array.from({ length: m }, (_, i) => i).sort(
    (x, y) => (pValues[x] as number) - (pValues[y] as number) || x - y,
  );
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach((index, k) => {
    running = Math.max(running, Math.min(1, (m - k) * (pValues[index] as number)));
    adjusted[index] = running;
  });
  return adjusted;
}
