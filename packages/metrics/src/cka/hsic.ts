import { KoraError } from "../errors";
import type { MetricsErrorCode } from "../errors/kora-error";
import { assertMinRows, type MatrixLike, toDense } from "../matrix";
import { centerGram, frobeniusDot } from "./gram";

/** Options of {@link hsic}. */
export interface HsicOptions {
  /**
   * `false` (default): the biased estimator HSIC₀ = tr(K H L H) / (n − 1)² (Gretton et al. 2005).
   * `true`: the unbiased estimator HSIC₁ of Song et al. 2012, needs n ≥ 4.
   */
  unbiased?: boolean;
}

function assertSymmetric(k: Float64Array, n: number, name: string): void {
  let scale = 0;
  for (let i = 0; i < k.length; i++) scale = Math.max(scale, Math.abs(k[i]!));
  const tolerance = 1e-12 * scale;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (Math.abs(k[i * n + j]! - k[j * n + i]!) > tolerance) {
        throw new KoraError<MetricsErrorCode>({
          code: "INVALID_ARGUMENT",
          message: `${name} must be a symmetric kernel matrix, but ${name}[${i}][${j}] = ${k[i * n + j]} differs from ${name}[${j}][${i}] = ${k[j * n + i]}`,
          path: name,
        });
      }
    }
  }
}

/**
 * Hilbert–Schmidt independence criterion between two kernel (Gram) matrices over the same n examples.
 *
 * Biased: `tr(KHLH) / (n − 1)²`. Unbiased (Song et al. 2012):
 * `[tr(K̃L̃) + 1ᵀK̃1 · 1ᵀL̃1 / ((n−1)(n−2)) − 2/(n−2) · 1ᵀK̃L̃1] / (n(n−3))` with `K̃`, `L̃` the kernels with
 * zeroed diagonals, computed in O(n²) as `⟨U(K), U(L)⟩ / (n(n−3))` where `U` is the unbiased double centring.
 *
 * @param k - Symmetric n × n kernel matrix of the first representation.
 * @param l - Symmetric n × n kernel matrix of the second representation.
 * @throws KoraError `SHAPE_MISMATCH` (not square, different n), `INVALID_ARGUMENT` (not symmetric),
 *   `NON_FINITE`, `TOO_FEW_EXAMPLES` (n < 2, or n < 4 unbiased).
 * @see https://jmlr.org/papers/v13/song12a.html
 */
export function hsic(k: MatrixLike, l: MatrixLike, options: HsicOptions = {}): number {
  const unbiased = options.unbiased ?? false;
  const dk = toDense(k, "k");
  const dl = toDense(l, "l");
  for (const [m, name] of [
    [dk, "k"],
    [dl, "l"],
  ] as const) {
    if (m.rows !== m.cols) {
      throw new KoraError<MetricsErrorCode>({
        code: "SHAPE_MISMATCH",
        message: `${name} must be a square kernel matrix, got ${m.rows} × ${m.cols}`,
        path: name,
      });
    }
  }
  if (dk.rows !== dl.rows) {
    throw new KoraError<MetricsErrorCode>({
      code: "SHAPE_MISMATCH",
      message: `k and l must be kernels over the same examples, got ${dk.rows} × ${dk.rows} and ${dl.rows} × ${dl.rows}`,
      path: "l",
    });
  }
  const n = dk.rows;
  assertMinRows(n, unbiased ? 4 : 2, unbiased ? "unbiased HSIC" : "HSIC", "k");
  assertSymmetric(dk.data, n, "k");
  assertSymmetric(dl.data, n, "l");
  centerGram(dk.data, n, unbiased);
  centerGram(dl.data, n, unbiased);
  const dot = frobeniusDot(dk.data, dl.data);
  return unbiased ? dot / (n * (n - 3)) : dot / ((n - 1) * (n - 1));
}
