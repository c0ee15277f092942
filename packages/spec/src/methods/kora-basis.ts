import * as z from "zod/mini";
import type { CompositionBasis, CompositionSpec } from "../spec/types";

/** Largest `grid` a learnable basis accepts: beyond it the `[n, h, G]` basis activations dominate memory. */
export const MAX_BASIS_GRID = 256;
/** Largest B-spline `order` accepted (degree 5; higher degrees only add ill-conditioning on a fixed grid). */
export const MAX_BSPLINE_ORDER = 5;

const DEFAULT_RANGE: [number, number] = [-2, 2];

// Built on first use, like every schema of the package (see spec/schema.ts).
const rangeSchema = () =>
  z
    .tuple([
      z.number().check(z.refine(Number.isFinite, { message: "must be finite" })),
      z.number().check(z.refine(Number.isFinite, { message: "must be finite" })),
    ])
    .check(z.refine(([lo, hi]) => lo < hi, { message: "expected [lo, hi] with lo < hi" }));

const gridSchema = (min: number) => z.number().check(z.int(), z.gte(min), z.lte(MAX_BASIS_GRID));

/** @internal The schema of `composition.basis` (a discriminated union on `kind`; absent means fixed). */
export const basisSchema = () =>
  z.discriminatedUnion("kind", [
    z.strictObject({ kind: z.literal("fixed") }),
    z.strictObject({
      kind: z.literal("rbf"),
      // Two centres at least: σ is their spacing.
      grid: z._default(gridSchema(2), 8),
      range: z._default(rangeSchema(), DEFAULT_RANGE),
    }),
    z.strictObject({
      kind: z.literal("bspline"),
      grid: z._default(gridSchema(1), 8),
      order: z._default(z.number().check(z.int(), z.gte(1), z.lte(MAX_BSPLINE_ORDER)), 3),
      range: z._default(rangeSchema(), DEFAULT_RANGE),
      base: z._default(z.enum(["silu", "none"]), "silu"),
    }),
  ]);

/** The composition's basis with the absent field read as `{ kind: "fixed" }`. */
export function compositionBasis(composition: Pick<CompositionSpec, "basis">): CompositionBasis {
  return composition.basis ?? { kind: "fixed" };
}

/**
 * Coefficients per hidden unit of a learnable basis: `G` for `rbf`, `G + order` for `bspline` (the base weight
 * excluded), 0 for `fixed`.
 */
export function basisFunctionCount(basis: CompositionBasis): number {
  if (basis.kind === "rbf") return basis.grid;
  if (basis.kind === "bspline") return basis.grid + basis.order;
  return 0;
}

/** The `G` RBF centres, evenly spaced on `range` with both ends included, and `σ`, their spacing. */
export function rbfCentres(basis: { grid: number; range: [number, number] }): {
  centres: number[];
  sigma: number;
} {
  const [lo, hi] = basis.range;
  const sigma = (hi - lo) / (basis.grid - 1);
  return { centres: Array.from({ length: basis.grid }, (_, k) => lo + k * sigma), sigma };
}

/**
 * The uniform extended knot vector of a B-spline basis: `lo + (i − order)·step` for `i = 0 … G + 2·order`, with
 * `step = (hi − lo)/G`. Spline `k` (of `G + order`) is supported on `[knots[k], knots[k + order + 1]]`.
 */
export function bsplineKnots(basis: { grid: number; order: number; range: [number, number] }): {
  knots: number[];
  step: number;
} {
  const [lo, hi] = basis.range;
  const step = (hi - lo) / basis.grid;
  return {
    knots: Array.from({ length: basis.grid + 2 * basis.order + 1 }, (_, i) => lo + (i - basis.order) * step),
    step,
  };
}

/** A short, file-name-safe tag of a learnable basis for labels (`"rbf8"`, `"bspline8o3"`), `""` when fixed. */
export function basisLabel(basis: CompositionBasis): string {
  if (basis.kind === "rbf") return `rbf${basis.grid}`;
  if (basis.kind === "bspline")
    return `bspline${basis.grid}o${basis.order}${basis.base === "none" ? "nb" : ""}`;
  return "";
}
