import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { fixturePath, gaussian, readF32Safetensors, referenceCKA, relativeError } from "../../test/helpers";
import { KoraError } from "../errors";
import { ckaKernel, kernelModuleBytes } from "../linalg";
import type { Matrix } from "../matrix";
import { CKAWorkerPool } from "../workers";
import { poolWorkers, send } from "../workers/worker-pool";
import { linearCKA } from "./linear-cka";
import { linearCKAAsync } from "./linear-cka-async";
import { MinibatchCKA } from "./minibatch-cka";

const tensors = readF32Safetensors(fixturePath("cka", "basic.safetensors"));
const expected = JSON.parse(readFileSync(fixturePath("cka", "basic.expected.json"), "utf8")) as Record<
  string,
  number
>;
const fx: Matrix = { rows: 100, cols: 10, data: tensors["x"]!.data };
const fy: Matrix = { rows: 100, cols: 10, data: tensors["y"]!.data };

const two = new CKAWorkerPool({ threads: 2 });
const three = new CKAWorkerPool({ threads: 3 });
afterAll(async () => {
  await two.close();
  await three.close();
});

/** The rejection's KoraError code (fails when the promise resolves or rejects with something else). */
async function rejectionCode(promise: Promise<unknown>): Promise<{ code: string; path: string | undefined }> {
  try {
    await promise;
  } catch (error) {
    if (KoraError.isInstance(error)) return { code: error.code, path: error.path };
    throw error;
  }
  throw new Error("expected a rejection");
}

describe("linearCKAAsync on worker threads", () => {
  it("runs on real workers in Node (process.getBuiltinModule is there)", () => {
    expect(poolWorkers(two)).toBe(2);
    expect(two.threads).toBe(2);
  });

  it("workers run the calling thread's kernel (the fused one in the metrics-fma project)", async () => {
    poolWorkers(two);
    const kernel = await send(two, 0, { id: 0, op: "init", bytes: kernelModuleBytes() }, []);
    expect(kernel).toBe(ckaKernel());
    if (process.env["KORA_METRICS_EXPECT_FMA"] === "1") expect(kernel).toBe("wasm-fma");
  });

  it("golden values of the google-research float64 reference to 1e-9, biased and debiased", async () => {
    for (const pool of [two, three]) {
      expect(Math.abs((await linearCKAAsync(fx, fy, { pool })) - expected["linear"]!)).toBeLessThan(1e-9);
      expect(
        Math.abs((await linearCKAAsync(fx, fy, { pool, debiased: true })) - expected["linear_debiased"]!),
      ).toBeLessThan(1e-9);
    }
  });

  it("equals the synchronous linearCKA and the definition-level reference to 1e-9 relative (uneven shapes, every input type)", async () => {
    // 7 and 13 features: the second representation starts mid-panel if parts were not panel-aligned; 301 rows
    // split unevenly over 2 and 3 workers.
    const n = 301;
    const a = gaussian(n, 7, 1);
    const b = gaussian(n, 13, 2);
    for (let i = 0; i < n; i++) for (let f = 0; f < 7; f++) b[i * 13 + f]! += 0.7 * a[i * 7 + f]!;
    const reference = referenceCKA(a, b, n, 7, 13);
    const inputs: [Matrix | number[][], Matrix | number[][]][] = [
      [
        { rows: n, cols: 7, data: a },
        { rows: n, cols: 13, data: b },
      ],
      [
        { rows: n, cols: 7, data: Float32Array.from(a) },
        { rows: n, cols: 13, data: Float32Array.from(b) },
      ],
      [
        { rows: n, cols: 7, data: Array.from(a) },
        { rows: n, cols: 13, data: Array.from(b) },
      ],
      [
        Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * 7, i * 7 + 7))),
        Array.from({ length: n }, (_, i) => Array.from(b.subarray(i * 13, i * 13 + 13))),
      ],
    ];
    for (const [x, y] of inputs) {
      for (const debiased of [false, true]) {
        const sync = linearCKA(x, y, { debiased });
        for (const pool of [two, three]) {
          expect(relativeError(await linearCKAAsync(x, y, { pool, debiased }), sync)).toBeLessThan(1e-9);
        }
      }
    }
    expect(
      relativeError(await linearCKAAsync(inputs[0]![0], inputs[0]![1], { pool: two }), reference),
    ).toBeLessThan(1e-9);
  });

  it("float32 features of mean 1e3 keep 1e-9 relative (two-pass centring across workers)", async () => {
    const n = 500;
    const d = 16;
    const base = gaussian(n, d, 21);
    const other = gaussian(n, d, 22);
    for (let i = 0; i < other.length; i++) other[i]! += 0.5 * base[i]!;
    const x32 = Float32Array.from(base, (v) => 1000 + v);
    const y32 = Float32Array.from(other, (v) => 1000 + v);
    // Subtracting 1000 from a float32 value near 1000 is exact, and CKA is translation invariant.
    const m = (data: Float32Array | Float64Array): Matrix => ({ rows: n, cols: d, data });
    for (const debiased of [false, true]) {
      const ref = linearCKA(
        m(Float64Array.from(x32, (v) => v - 1000)),
        m(Float64Array.from(y32, (v) => v - 1000)),
        {
          debiased,
        },
      );
      expect(relativeError(await linearCKAAsync(m(x32), m(y32), { pool: two, debiased }), ref)).toBeLessThan(
        1e-9,
      );
    }
  });

  it("the Gram form (n ≤ d₁ + d₂) and the shared default pool give the synchronous value", async () => {
    const x: Matrix = { rows: 12, cols: 20, data: gaussian(12, 20, 5) };
    const y: Matrix = { rows: 12, cols: 9, data: gaussian(12, 9, 6) };
    expect(relativeError(await linearCKAAsync(x, y), linearCKA(x, y))).toBeLessThan(1e-12);
    expect(relativeError(await linearCKAAsync(fx, fy), expected["linear"]!)).toBeLessThan(1e-9);
  });

  it("bad input rejects with the synchronous API's codes and paths", async () => {
    const nan = Float64Array.from(fx.data);
    nan[17] = Number.NaN;
    expect(
      await rejectionCode(linearCKAAsync(fx, { rows: 100, cols: 10, data: nan }, { pool: two })),
    ).toEqual({
      code: "NON_FINITE",
      path: "y",
    });
    expect(await rejectionCode(linearCKAAsync(fx, { rows: 99, cols: 10, data: fy.data.slice(10) }))).toEqual({
      code: "SHAPE_MISMATCH",
      path: "y",
    });
    expect(
      await rejectionCode(linearCKAAsync({ rows: 100, cols: 10, data: new Float32Array(1000).fill(2) }, fy)),
    ).toEqual({ code: "CONSTANT_FEATURES", path: "x" });
    expect(await rejectionCode(linearCKAAsync(fx, { rows: 100, cols: 10, data: fy.data.slice(1) }))).toEqual({
      code: "SHAPE_MISMATCH",
      path: "y.data",
    });
    const closed = new CKAWorkerPool({ threads: 1 });
    await closed.close();
    expect(await rejectionCode(linearCKAAsync(fx, fy, { pool: closed }))).toEqual({
      code: "INVALID_ARGUMENT",
      path: "options.pool",
    });
    for (const threads of [0, 1.5, Number.NaN]) {
      expect(() => new CKAWorkerPool({ threads })).toThrow(
        expect.objectContaining({ code: "INVALID_ARGUMENT", path: "options.threads" }),
      );
    }
  });
});

describe("MinibatchCKA.updateAsync", () => {
  it("golden minibatch value (5 batches of 20) to 1e-9", async () => {
    const grid = new MinibatchCKA();
    for (let b = 0; b < 5; b++) {
      const part = (m: Matrix): Matrix => ({
        rows: 20,
        cols: 10,
        data: (m.data as Float32Array).slice(b * 200, (b + 1) * 200),
      });
      await grid.updateAsync([part(fx)], [part(fy)], { pool: two });
    }
    expect(Math.abs(grid.result()[0]![0]! - expected["minibatch_linear_b20"]!)).toBeLessThan(1e-9);
  });

  it("equals update() on symmetric and A × B grids (odd layer counts over 2 and 3 workers)", async () => {
    const layers = (seed: number, widths: number[]): Matrix[] =>
      widths.map((d, i) => ({ rows: 18, cols: d, data: gaussian(18, d, seed * 10 + i) }));
    for (const pool of [two, three]) {
      const syncSym = new MinibatchCKA();
      const asyncSym = new MinibatchCKA();
      const syncAB = new MinibatchCKA();
      const asyncAB = new MinibatchCKA();
      for (let b = 0; b < 3; b++) {
        const a = layers(b, [5, 9, 3, 7, 6]);
        const other = layers(b + 50, [4, 11]);
        syncSym.update(a);
        await asyncSym.updateAsync(a, undefined, { pool });
        syncAB.update(a, other);
        await asyncAB.updateAsync(a, other, { pool });
      }
      for (const [s, as] of [
        [syncSym, asyncSym],
        [syncAB, asyncAB],
      ] as const) {
        const want = s.result();
        const got = as.result();
        expect(as.batches).toBe(3);
        for (const [i, row] of want.entries()) {
          for (const [j, v] of row.entries()) expect(relativeError(got[i]![j]!, v)).toBeLessThan(1e-12);
        }
      }
    }
  });

  it("rejects bad batches with update()'s codes; a constant layer is CONSTANT_FEATURES at result()", async () => {
    const grid = new MinibatchCKA();
    const ok = (rows: number): Matrix[] => [{ rows, cols: 3, data: gaussian(rows, 3, rows) }];
    await grid.updateAsync(ok(8), undefined, { pool: two });
    expect(await rejectionCode(grid.updateAsync(ok(6), undefined, { pool: two }))).toEqual({
      code: "UNEQUAL_BATCH",
      path: "a[0]",
    });
    expect(await rejectionCode(grid.updateAsync([], undefined, { pool: two }))).toMatchObject({
      code: "INVALID_ARGUMENT",
    });
    const constant = new MinibatchCKA();
    await constant.updateAsync([{ rows: 8, cols: 2, data: new Float64Array(16).fill(3) }], ok(8), {
      pool: two,
    });
    expect(() => constant.result()).toThrow(
      expect.objectContaining({ code: "CONSTANT_FEATURES", path: "a[0]" }),
    );
  });
});
