import { type ColumnPart, type ColumnsGram, productEngine, type Source } from "../linalg";
import { type MatrixLike, toSource } from "../matrix";
import { type CKAWorkerPool, poolWorkers, send, sharedMemory, sharedPool } from "../workers/worker-pool";
import { addGram, ckaFromGram, featurePlan } from "./feature-gram";
import { checkPair, linearCKA, usesFeatureSpace } from "./linear-cka";
import type { LinearCKAOptions } from "./options";

/** Options of {@link linearCKAAsync}. */
export interface LinearCKAAsyncOptions extends LinearCKAOptions {
  /** The worker pool to run on. Default: one shared pool with a thread per core (at most 8), started on first use. */
  pool?: CKAWorkerPool;
}

/** Rows `r0 … r1 − 1` of a row-major array as a transferable copy (float32 stays float32: half the bytes). */
function rowSlice(data: Source, cols: number, r0: number, r1: number): Float32Array | Float64Array {
  if (data instanceof Float32Array || data instanceof Float64Array) return data.slice(r0 * cols, r1 * cols);
  return Float64Array.from(data.slice(r0 * cols, r1 * cols));
}

/**
 * {@link linearCKA} on worker threads: the same value (to rounding, ≤ 1e-12 relative), computed off the calling
 * thread and split over the pool's workers.
 *
 * In the feature-space form (n > d₁ + d₂) the examples are split into one contiguous range per worker; each
 * worker centres (with the column means of all examples, computed here), packs and multiplies its rows of the
 * stacked `[X Y]`, and the partial products `[X Y]ᵀ[X Y]` are summed here. Inputs are validated on the calling
 * thread first, so bad input rejects with the same `KoraError` codes as {@link linearCKA}. The Gram form
 * (n ≤ d₁ + d₂, small n) runs on the calling thread. Worth it for large inputs: for a few hundred examples the
 * synchronous {@link linearCKA} is faster than a round trip to the workers.
 *
 * @param x - Representation A, rows = examples.
 * @param y - Representation B, same number of rows.
 * @returns A promise of the similarity.
 * @throws KoraError (as a rejection) `SHAPE_MISMATCH`, `NON_FINITE`, `TOO_FEW_EXAMPLES`, `CONSTANT_FEATURES`,
 *   `NON_POSITIVE_ESTIMATE`, `INVALID_ARGUMENT` (a closed pool).
 */
export async function linearCKAAsync(
  x: MatrixLike,
  y: MatrixLike,
  options: LinearCKAAsyncOptions = {},
): Promise<number> {
  const debiased = options.debiased ?? false;
  const sx = toSource(x, "x");
  const sy = toSource(y, "y");
  checkPair(sx, sy, debiased);
  if (!usesFeatureSpace(sx, sy)) return linearCKA(x, y, { debiased });
  const pool = options.pool ?? sharedPool();
  const plan = featurePlan(sx, sy);
  const workers = Math.min(poolWorkers(pool), Math.floor(plan.n / 4));
  if (workers === 0)
    return ckaFromGram(plan, productEngine().columnsGram(plan.parts, 0, plan.n, 0), debiased);
  const bounds = (w: number): [number, number] => [
    Math.round((w * plan.n) / workers),
    Math.round(((w + 1) * plan.n) / workers),
  ];
  const ldc = plan.parts.reduce((sum, part) => sum + 4 * Math.ceil(part.cols / 4), 0);
  const inputs = plan.parts.reduce((sum, part) => sum + plan.n * part.cols, 0);
  const memory = sharedMemory(pool, inputs + workers * ldc * ldc);
  if (memory !== null) {
    // Node, or a cross-origin-isolated page: the inputs are copied (widened) once into the pool's shared
    // memory, every worker packs its rows from there and writes its product to its own result slot.
    const all = new Float64Array(memory);
    let at = 0;
    const parts = plan.parts.map((part) => {
      all.set(part.data, at);
      const shared = { at, rows: plan.n, cols: part.cols, means: part.means! };
      at += plan.n * part.cols;
      return shared;
    });
    const tasks = Array.from({ length: workers }, (_, w) => {
      const [r0, r1] = bounds(w);
      return send(
        pool,
        w,
        { id: 0, op: "shared-columns", memory, parts, r0, r1, out: at + w * ldc * ldc },
        [],
      );
    });
    const replies = (await Promise.all(tasks)) as { ldc: number; starts: number[] }[];
    // Summed into the first slot in place (a fresh array of this size costs more than the sum).
    const sum = all.subarray(at, at + ldc * ldc);
    for (let w = 1; w < workers; w++) {
      const slot = all.subarray(at + w * ldc * ldc, at + (w + 1) * ldc * ldc);
      for (let i = 0; i < sum.length; i++) sum[i]! += slot[i]!;
    }
    return ckaFromGram(plan, { c: sum, ldc, starts: replies[0]!.starts }, debiased);
  }
  const tasks: Promise<unknown>[] = [];
  for (let w = 0; w < workers; w++) {
    const [r0, r1] = bounds(w);
    const parts: ColumnPart[] = plan.parts.map((part) => ({
      data: rowSlice(part.data, part.cols, r0, r1),
      cols: part.cols,
      means: part.means,
    }));
    const transfer = parts.map((part) => (part.data as Float64Array).buffer as ArrayBuffer);
    tasks.push(send(pool, w, { id: 0, op: "columns", parts, rows: r1 - r0 }, transfer));
  }
  const grams = (await Promise.all(tasks)) as ColumnsGram[];
  return ckaFromGram(plan, grams.reduce(addGram), debiased);
}
