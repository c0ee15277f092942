import { KoraError } from "../errors";
import type { MetricsErrorCode } from "../errors/kora-error";
import { assertMinRows, type DenseMatrix, type MatrixLike, toDense } from "../matrix";
import { frobeniusDot, normalise } from "./gram";
import {
  type GramRepresentation,
  linearGramRepresentation,
  rbfGramRepresentation,
} from "./gram-representation";
import {
  crossProduct,
  debiasedProduct,
  type FeatureRepresentation,
  featureRepresentation,
} from "./linear-features";
import { type CKAMatrixOptions, checkThreshold } from "./options";

/** Largest total size (in float64 values) of cached n × n Gram matrices before the feature-space path is used. */
const GRAM_CACHE_LIMIT = 64 * 1024 * 1024;

/**
 * Layer × layer CKA matrix: entry (i, j) is CKA(a[i], b[j]).
 *
 * Omit `b` (or pass the same array) for a symmetric matrix: only the upper triangle is computed, mirrored, and
 * the diagonal is exactly 1. Each representation is centred and its Gram matrix (or, for large n with the
 * linear kernel, its packed feature panels) is prepared once and reused for every pair.
 *
 * @param a - Representations (rows = the same n examples in every matrix).
 * @param b - Second list of representations; defaults to `a`.
 * @throws KoraError as {@link linearCKA} / {@link rbfCKA}; paths name the offending entry (`"a[3]"`).
 */
export function ckaMatrix(
  a: readonly MatrixLike[],
  b?: readonly MatrixLike[],
  options: CKAMatrixOptions = {},
): number[][] {
  const kernel = options.kernel ?? "linear";
  if (kernel !== "linear" && kernel !== "rbf") {
    throw new KoraError<MetricsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `options.kernel must be "linear" or "rbf", got ${String(kernel)}`,
      path: "options.kernel",
    });
  }
  const debiased = options.debiased ?? false;
  const threshold = checkThreshold(options.threshold ?? 1);
  const symmetric = b === undefined || b === a;
  const listB = b ?? a;
  if (!Array.isArray(a) || !Array.isArray(listB) || a.length === 0 || listB.length === 0) {
    throw new KoraError<MetricsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: "ckaMatrix(a, b) expects non-empty arrays of matrices",
      path: "a",
    });
  }
  const denseA = a.map((m, i) => toDense(m, `a[${i}]`));
  const denseB = symmetric ? denseA : listB.map((m, j) => toDense(m, `b[${j}]`));
  const n = denseA[0]!.rows;
  for (const [list, label] of [
    [denseA, "a"],
    [denseB, "b"],
  ] as const) {
    list.forEach((m, i) => {
      if (m.rows !== n) {
        throw new KoraError<MetricsErrorCode>({
          code: "SHAPE_MISMATCH",
          message: `every representation must have the same number of rows (examples): a[0] has ${n}, ${label}[${i}] has ${m.rows}`,
          path: `${label}[${i}]`,
        });
      }
    });
  }
  assertMinRows(n, debiased ? 4 : 2, debiased ? "debiased CKA" : "CKA", "a[0]");

  const all = symmetric ? denseA : [...denseA, ...denseB];
  const totalCols = all.reduce((s, m) => s + m.cols, 0);
  const pairs = denseA.length * denseB.length;
  // Gram path costs ~ n²·Σd/2 + pairs·n², feature path ~ n·(Σd)²/2; the Gram cache must also fit in memory.
  const useGram =
    kernel === "rbf" ||
    (n * (totalCols / 2 + pairs) < (totalCols * totalCols) / 2 && all.length * n * n <= GRAM_CACHE_LIMIT);

  let cross: (i: number, j: number) => number;
  let selfA: number[];
  let selfB: number[];
  let scaleA: number[];
  let scaleB: number[];
  if (useGram) {
    const prepare = (m: DenseMatrix, name: string): GramRepresentation =>
      kernel === "rbf"
        ? rbfGramRepresentation(m, name, threshold, debiased)
        : linearGramRepresentation(m, name, debiased);
    const ga = denseA.map((m, i) => prepare(m, `a[${i}]`));
    const gb = symmetric ? ga : denseB.map((m, j) => prepare(m, `b[${j}]`));
    cross = (i, j) => frobeniusDot(ga[i]!.gram, gb[j]!.gram);
    selfA = ga.map((g) => g.self);
    selfB = gb.map((g) => g.self);
    scaleA = ga.map((g) => g.scale);
    scaleB = gb.map((g) => g.scale);
  } else {
    const fa = denseA.map((m, i) => featureRepresentation(m, `a[${i}]`));
    const fb = symmetric ? fa : denseB.map((m, j) => featureRepresentation(m, `b[${j}]`));
    const adjust = (value: number, x: FeatureRepresentation, y: FeatureRepresentation): number =>
      debiased ? debiasedProduct(value, x, y) : value;
    cross = (i, j) => adjust(crossProduct(fa[i]!, fb[j]!), fa[i]!, fb[j]!);
    selfA = fa.map((f) => adjust(f.selfProduct, f, f));
    selfB = fb.map((f) => adjust(f.selfProduct, f, f));
    scaleA = fa.map((f) => f.selfProduct);
    scaleB = fb.map((f) => f.selfProduct);
  }

  const out: number[][] = denseA.map(() => new Array<number>(denseB.length).fill(0));
  for (let i = 0; i < denseA.length; i++) {
    for (let j = symmetric ? i : 0; j < denseB.length; j++) {
      const nameA = `a[${i}]`;
      const nameB = symmetric ? `a[${j}]` : `b[${j}]`;
      if (symmetric && i === j) {
        normalise(selfA[i]!, selfA[i]!, selfA[i]!, nameA, nameA, scaleA[i], scaleA[i]);
        out[i]![i] = 1;
        continue;
      }
      const value = normalise(cross(i, j), selfA[i]!, selfB[j]!, nameA, nameB, scaleA[i], scaleB[j]);
      out[i]![j] = value;
      if (symmetric) out[j]![i] = value;
    }
  }
  return out;
}
