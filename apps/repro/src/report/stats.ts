/** Mean, sample standard deviation (n − 1) and count, accumulated in float64. */
export interface Summary {
  mean: number;
  std: number | null;
  n: number;
}

/** Summarises finite values; null when there are none. */
export function summarise(values: readonly (number | null | undefined)[]): Summary | null {
  const finite = values.filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  if (finite.length === 0) return null;
  const mean = finite.reduce((a, b) => a + b, 0) / finite.length;
  if (finite.length < 2) return { mean, std: null, n: 1 };
  const variance = finite.reduce((a, b) => a + (b - mean) ** 2, 0) / (finite.length - 1);
  return { mean, std: Math.sqrt(variance), n: finite.length };
}

/** Element-wise mean of equally shaped matrices. */
export function meanMatrix(matrices: readonly number[][][]): number[][] | null {
  const first = matrices[0];
  if (first === undefined) return null;
  return first.map((row, i) =>
    row.map((_, j) => matrices.reduce((s, m) => s + ((m[i] as number[])[j] as number), 0) / matrices.length),
  );
}
