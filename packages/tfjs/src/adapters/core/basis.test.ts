import {
  type Activation,
  adapterTensorLayout,
  type BSplineBasis,
  type KoraSpec,
  parseAdapterSpec,
  type RbfBasis,
} from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initKoraTensor } from "../methods/kora-module";
import { TINY_SHAPE } from "../test-support/tiny-transformer";
import { applyActivation } from "./activation";
import { applyBasis } from "./basis";
import { activation64, basisFunctions64 } from "./basis-fit";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const RBF: RbfBasis = { kind: "rbf", grid: 6, range: [-1.5, 2.5] };
const SPLINE: BSplineBasis = { kind: "bspline", grid: 5, order: 3, range: [-2, 3], base: "silu" };

// Points inside the range, on knots and centres exactly, and outside the (extended) grid.
const POINTS = [-9, -4.1, -2, -1.5, -1.23, -1, -0.5, 0, 0.01, 0.7, 1, 1.9, 2.5, 3, 4.4, 7];

/** Σ_k c_{k,j}·b_k(z) (+ w_j·silu(z)) in float64 from the reference basis functions. */
function phi64(basis: RbfBasis | BSplineBasis, z: number, c: number[], w: number | null): number {
  const b = basisFunctions64(basis, z);
  return b.reduce((s, v, k) => s + v * (c[k] as number), 0) + (w === null ? 0 : w * activation64("silu", z));
}

describe("learnable composition basis (tfjs) against the float64 reference", () => {
  for (const basis of [RBF, SPLINE, { ...SPLINE, order: 1, base: "none" as const }]) {
    const label = `${basis.kind}${basis.kind === "bspline" ? ` order ${basis.order} base ${basis.base}` : ""}`;
    it(`${label}: φ matches to 1e-5 per unit, inside, on and outside the grid`, () => {
      const count = basisFunctions64(basis, 0).length;
      const units = 3;
      const c = Array.from({ length: units }, (_, j) =>
        Array.from({ length: count }, (_, k) => Math.sin(1 + 3 * j + k)),
      );
      const w = basis.kind === "bspline" && basis.base === "silu" ? [0.5, -1.25, 2] : null;
      const value = tf.tidy(() => {
        const z = tf.tensor2d(
          POINTS.flatMap((p, i) => [p, p + 0.125 * i, -p]),
          [POINTS.length, units],
        );
        const coefficients = tf.tensor2d(
          Array.from({ length: count }, (_, k) => c.map((unit) => unit[k] as number)),
          [count, units],
        );
        return applyBasis(z, basis, "gelu", {
          coefficients,
          base: w === null ? null : tf.tensor1d(w),
        }).arraySync();
      });
      POINTS.forEach((p, i) => {
        [p, p + 0.125 * i, -p].forEach((z, j) => {
          const expected = phi64(basis, z, c[j] as number[], w === null ? null : (w[j] as number));
          expect(Math.abs((value[i]?.[j] as number) - expected), `z ${z}, unit ${j}`).toBeLessThan(1e-5);
        });
      });
    });
  }

  it("B-splines sum to 1 on the range (partition of unity) and vanish outside the extended grid", () => {
    for (const order of [1, 2, 3, 5]) {
      const basis: BSplineBasis = { ...SPLINE, order, base: "none" };
      const count = basisFunctions64(basis, 0).length;
      const z = Array.from({ length: 101 }, (_, i) => -2 + (5 * i) / 100);
      const sums = tf.tidy(() =>
        applyBasis(tf.tensor2d([...z, -40, 40], [z.length + 2, 1]), basis, "gelu", {
          coefficients: tf.ones([count, 1]),
          base: null,
        }).dataSync(),
      );
      z.forEach((value, i) => {
        expect(Math.abs((sums[i] as number) - 1), `order ${order}, z ${value}`).toBeLessThan(1e-5);
      });
      expect([sums[z.length], sums[z.length + 1]]).toEqual([0, 0]);
    }
  });

  it("the gradient with respect to z equals the float64 derivative of the reference (central difference, h 1e-6)", () => {
    for (const basis of [RBF, SPLINE]) {
      const count = basisFunctions64(basis, 0).length;
      const c = Array.from({ length: count }, (_, k) => Math.cos(2 * k + 0.3));
      const w = basis.kind === "bspline" ? 0.75 : null;
      // Off the knots, where a cubic spline is smooth; the RBF is smooth everywhere.
      const zs = [-1.77, -0.61, 0.33, 1.41, 2.29];
      const grad = tf.tidy(() => {
        const coefficients = tf.tensor2d(c, [count, 1]);
        const base = w === null ? null : tf.tensor1d([w]);
        const f = (z: tf.Tensor) =>
          tf.sum(applyBasis(z as tf.Tensor2D, basis, "gelu", { coefficients, base }));
        return tf
          .grad(f)(tf.tensor2d(zs, [zs.length, 1]))
          .dataSync();
      });
      zs.forEach((z, i) => {
        const h = 1e-6;
        const fd = (phi64(basis, z + h, c, w) - phi64(basis, z - h, c, w)) / (2 * h);
        expect(Math.abs((grad[i] as number) - fd), `${basis.kind} z ${z}`).toBeLessThan(
          2e-4 * Math.max(1, Math.abs(fd)),
        );
      });
    }
  });
});

describe("learnable basis initialisation", () => {
  /** φ at init, as initKoraTensor sets it, against the fixed activation on `points`. */
  function initialError(input: object, points: number[]): number {
    const spec = parseAdapterSpec({ method: "kora", composition: { hidden: 2, ...input } }) as KoraSpec;
    const layout = adapterTensorLayout(spec, TINY_SHAPE, { includeHead: false }).filter((t) => t.layer === 0);
    const byName = new Map(layout.map((t) => [t.name, t]));
    const info = (name: string) => byName.get(`layers.0.kora.composition.basis.${name}`);
    return tf.tidy(() => {
      const coefficients = initKoraTensor(spec, info("coefficients")!, byName, 1) as tf.Tensor2D;
      const baseInfo = info("base");
      const base = baseInfo === undefined ? null : (initKoraTensor(spec, baseInfo, byName, 2) as tf.Tensor1D);
      const z = tf.tensor2d(
        points.flatMap((p) => [p, p]),
        [points.length, 2],
      );
      const basis = spec.composition.basis as RbfBasis | BSplineBasis;
      const phi = applyBasis(z, basis, spec.composition.activation, { coefficients, base });
      return tf
        .max(tf.abs(tf.sub(phi, applyActivation(z, spec.composition.activation))))
        .dataSync()[0] as number;
    });
  }
  const inRange = (lo: number, hi: number) =>
    Array.from({ length: 201 }, (_, i) => lo + ((hi - lo) * i) / 200);

  // Tolerances are a little above the measured errors of the least-squares fits (float32 storage included): they
  // bound regressions of the fit, they are not properties of it. Gaussians one spacing wide cannot follow a ramp
  // up to the last centre, so an RBF fit is weakest at the ends of the range (gelu, G 8: 0.17 at z = 2) and much
  // closer near 0, where the composition's pre-activations lie at init (fc1's bias is U(±1/√(3D)) and the
  // deltas are small); cubic B-splines fit to ~1e-4 everywhere.
  it.each([
    ["rbf 8 on [-2, 2], gelu", { activation: "gelu", basis: { kind: "rbf" } }, 0.18, 0.016],
    ["rbf 8 on [-2, 2], tanh", { activation: "tanh", basis: { kind: "rbf" } }, 0.07, 0.007],
    ["rbf 16 on [-2, 2], gelu", { activation: "gelu", basis: { kind: "rbf", grid: 16 } }, 0.18, 0.0035],
    [
      "rbf 12 on [-3, 3], identity",
      { activation: "identity", basis: { kind: "rbf", grid: 12, range: [-3, 3] } },
      0.25,
      0.011,
    ],
    ["cubic B-spline 8 + SiLU base, gelu", { activation: "gelu", basis: { kind: "bspline" } }, 2e-4, 2e-4],
    [
      "cubic B-spline 8 + SiLU base, silu (coefficients 0)",
      { activation: "silu", basis: { kind: "bspline" } },
      1e-6,
      1e-6,
    ],
    [
      "cubic B-spline 8 without base, tanh",
      { activation: "tanh", basis: { kind: "bspline", base: "none" } },
      1e-3,
      1e-3,
    ],
    [
      "linear B-spline 16 without base, relu",
      { activation: "relu", basis: { kind: "bspline", grid: 16, order: 1, base: "none" } },
      1e-5,
      1e-5,
    ],
  ] as [string, { activation: Activation; basis: object }, number, number][])(
    "%s: φ starts within the tolerances of the fixed activation, on the whole range and on [-0.5, 0.5]",
    (_label, input, onRange, nearZero) => {
      const range = ((input.basis as { range?: [number, number] }).range ?? [-2, 2]) as [number, number];
      expect(initialError(input, inRange(...range))).toBeLessThan(onRange);
      expect(initialError(input, inRange(-0.5, 0.5))).toBeLessThan(nearZero);
    },
  );
});
