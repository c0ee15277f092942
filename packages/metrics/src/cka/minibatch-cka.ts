import { KoraError } from "../errors";
import type { MetricsErrorCode } from "../errors/kora-error";
import { centerColumns, type DenseMatrix, type MatrixLike, toDense } from "../matrix";
import { type CKAWorkerPool, poolWorkers, send, sharedPool } from "../workers/worker-pool";
import { centerGram, frobeniusDot, linearGram, RELATIVE_ZERO } from "./gram";
import { constantFeatures } from "./linear-features";

/** Options of {@link MinibatchCKA}. */
export interface MinibatchCKAOptions {
  /**
   * What to do with a batch whose size differs from the first batch's: `"error"` (default) throws
   * `UNEQUAL_BATCH`; `"drop"` ignores that batch (counted in {@link MinibatchCKA.droppedBatches}). Batches of
   * different sizes are never mixed, because the mean of HSIC₁ over batches assumes one batch size.
   */
  unequalBatch?: "error" | "drop";
}

interface BatchGram {
  gram: Float64Array;
  self: number;
  scale: number;
}

/**
 * Minibatch linear CKA (Nguyen, Raghu & Kornblith 2021) for a grid of layers.
 *
 * For each batch, every layer's linear Gram `XXᵀ` is formed, the unbiased HSIC₁ (Song et al. 2012) between every
 * A-layer and B-layer is computed, and the values are averaged over batches:
 * `CKA_ij = mean HSIC₁(K_i, L_j) / √(mean HSIC₁(K_i, K_i) · mean HSIC₁(L_j, L_j))`.
 * Each batch's features are centred by the batch mean first; HSIC₁ is invariant to that shift, and it keeps
 * float64 precision for features with large offsets.
 *
 * @example
 * ```ts
 * const grid = new MinibatchCKA();
 * for (const batch of batches) grid.update(layersA(batch), layersB(batch));
 * const matrix = grid.result(); // A-layers × B-layers
 * ```
 * @see https://arxiv.org/abs/2010.15327
 */
export class MinibatchCKA {
  private readonly unequalBatch: "error" | "drop";
  private batchSize: number | undefined;
  private layersA: number | undefined;
  private layersB: number | undefined;
  private symmetric = false;
  private cross: Float64Array = new Float64Array(0);
  private selfA: Float64Array = new Float64Array(0);
  private selfB: Float64Array = new Float64Array(0);
  private scaleA: Float64Array = new Float64Array(0);
  private scaleB: Float64Array = new Float64Array(0);
  private count = 0;
  private dropped = 0;

  /** Creates an empty accumulator. */
  constructor(options: MinibatchCKAOptions = {}) {
    const mode = options.unequalBatch ?? "error";
    if (mode !== "error" && mode !== "drop") {
      throw new KoraError<MetricsErrorCode>({
        code: "INVALID_ARGUMENT",
        message: `options.unequalBatch must be "error" or "drop", got ${String(mode)}`,
        path: "options.unequalBatch",
      });
    }
    this.unequalBatch = mode;
  }

  /** Number of batches accumulated so far. */
  get batches(): number {
    return this.count;
  }

  /** Number of batches ignored because their size differed from the first batch (`unequalBatch: "drop"`). */
  get droppedBatches(): number {
    return this.dropped;
  }

  /**
   * Adds one batch: `a[i]` is layer i's features for the batch (rows = the batch's examples), likewise `b[j]`.
   * Omit `b` (or pass the same array) for a symmetric A × A grid. Every matrix must have the same number of
   * rows (≥ 4), and the layer counts must stay the same across batches.
   *
   * @throws KoraError `SHAPE_MISMATCH`, `NON_FINITE`, `TOO_FEW_EXAMPLES`, `UNEQUAL_BATCH`, `INVALID_ARGUMENT`.
   */
  update(a: readonly MatrixLike[], b?: readonly MatrixLike[]): void {
    const batch = this.check(a, b);
    if (batch === null) return;
    const gramsA = batch.a.map(batchGram);
    this.accumulate(gramsA, batch.symmetric ? gramsA : batch.b.map(batchGram), batch.symmetric, batch.rows);
  }

  /**
   * {@link MinibatchCKA.update} with the layers' Gram matrices `XXᵀ` formed on worker threads (the layers are
   * shared out between the pool's workers); the same result as `update` to rounding. Inputs are checked on the
   * calling thread before anything is sent, so bad input rejects with `update`'s error codes. Await each call
   * before {@link MinibatchCKA.result} (a batch counts once its promise has resolved).
   *
   * @param options.pool - The worker pool; default: the shared pool of {@link linearCKAAsync}.
   * @throws KoraError (as a rejection) as `update`, and `INVALID_ARGUMENT` for a closed pool.
   */
  async updateAsync(
    a: readonly MatrixLike[],
    b?: readonly MatrixLike[],
    options: { pool?: CKAWorkerPool } = {},
  ): Promise<void> {
    const batch = this.check(a, b);
    if (batch === null) return;
    const layers = batch.symmetric ? batch.a : [...batch.a, ...batch.b];
    const grams = await layerGrams(layers, options.pool ?? sharedPool());
    const gramsA = grams.slice(0, batch.a.length);
    this.accumulate(
      gramsA,
      batch.symmetric ? gramsA : grams.slice(batch.a.length),
      batch.symmetric,
      batch.rows,
    );
  }

  /** Validates one batch (and fixes the layer counts and batch size on the first); null for a dropped batch. */
  private check(
    a: readonly MatrixLike[],
    b: readonly MatrixLike[] | undefined,
  ): { a: DenseMatrix[]; b: DenseMatrix[]; symmetric: boolean; rows: number } | null {
    const symmetric = b === undefined || b === a;
    const listB = b ?? a;
    if (!Array.isArray(a) || !Array.isArray(listB) || a.length === 0 || listB.length === 0) {
      throw new KoraError<MetricsErrorCode>({
        code: "INVALID_ARGUMENT",
        message: "update(a, b) expects non-empty arrays of matrices (one per layer)",
        path: a.length === 0 ? "a" : "b",
      });
    }
    if (this.layersA === undefined) {
      this.layersA = a.length;
      this.layersB = listB.length;
      this.symmetric = symmetric;
      this.cross = new Float64Array(a.length * listB.length);
      this.selfA = new Float64Array(a.length);
      this.selfB = new Float64Array(listB.length);
      this.scaleA = new Float64Array(a.length);
      this.scaleB = new Float64Array(listB.length);
    } else if (a.length !== this.layersA || listB.length !== this.layersB || symmetric !== this.symmetric) {
      throw new KoraError<MetricsErrorCode>({
        code: "SHAPE_MISMATCH",
        message: `every batch must give the same layers: expected ${this.layersA} A-layers and ${this.layersB} B-layers${this.symmetric ? " (symmetric)" : ""}, got ${a.length} and ${listB.length}${symmetric ? " (symmetric)" : ""}`,
        path: "a",
      });
    }
    const denseA = a.map((m, i) => toDense(m, `a[${i}]`));
    const denseB = symmetric ? denseA : listB.map((m, j) => toDense(m, `b[${j}]`));
    const rows = denseA[0]!.rows;
    for (const [list, label] of [
      [denseA, "a"],
      [denseB, "b"],
    ] as const) {
      list.forEach((m, i) => {
        if (m.rows !== rows) {
          throw new KoraError<MetricsErrorCode>({
            code: "SHAPE_MISMATCH",
            message: `every matrix of one batch must have the same number of rows: a[0] has ${rows}, ${label}[${i}] has ${m.rows}`,
            path: `${label}[${i}]`,
          });
        }
      });
    }
    if (rows < 4) {
      throw new KoraError<MetricsErrorCode>({
        code: "TOO_FEW_EXAMPLES",
        message: `minibatch CKA (unbiased HSIC₁) needs batches of at least 4 examples, got ${rows}`,
        path: "a[0]",
      });
    }
    if (this.batchSize === undefined) {
      this.batchSize = rows;
    } else if (rows !== this.batchSize) {
      if (this.unequalBatch === "drop") {
        this.dropped++;
        return null;
      }
      throw new KoraError<MetricsErrorCode>({
        code: "UNEQUAL_BATCH",
        message: `batch of ${rows} examples differs from the first batch's ${this.batchSize}; drop it (unequalBatch: "drop") or use equal batches`,
        path: "a[0]",
      });
    }
    return { a: denseA, b: denseB, symmetric, rows };
  }

  /** Adds one batch's HSIC₁ values from its centred layer Grams. */
  private accumulate(gramsA: BatchGram[], gramsB: BatchGram[], symmetric: boolean, n: number): void {
    const scale = 1 / (n * (n - 3));
    const nb = gramsB.length;
    for (let i = 0; i < gramsA.length; i++) {
      this.selfA[i]! += gramsA[i]!.self * scale;
      this.scaleA[i]! += gramsA[i]!.scale * scale;
      for (let j = 0; j < nb; j++) {
        const value = symmetric && i === j ? gramsA[i]!.self : frobeniusDot(gramsA[i]!.gram, gramsB[j]!.gram);
        this.cross[i * nb + j]! += value * scale;
      }
    }
    for (let j = 0; j < nb; j++) {
      this.selfB[j]! += gramsB[j]!.self * scale;
      this.scaleB[j]! += gramsB[j]!.scale * scale;
    }
    this.count++;
  }

  /**
   * The A-layers × B-layers CKA matrix from the batches so far.
   *
   * @throws KoraError `TOO_FEW_EXAMPLES` (no batch yet), `CONSTANT_FEATURES` (a layer constant in every batch),
   *   `NON_POSITIVE_ESTIMATE`.
   */
  result(): number[][] {
    if (this.count === 0) {
      throw new KoraError<MetricsErrorCode>({
        code: "TOO_FEW_EXAMPLES",
        message: "MinibatchCKA.result() needs at least one accumulated batch",
      });
    }
    const na = this.layersA!;
    const nb = this.layersB!;
    const meanA = Array.from(this.selfA, (v) => v / this.count);
    const meanB = Array.from(this.selfB, (v) => v / this.count);
    for (const [means, scales, label] of [
      [meanA, this.scaleA, "a"],
      [meanB, this.scaleB, "b"],
    ] as const) {
      means.forEach((value, i) => {
        if (scales[i] === 0) throw constantFeatures(`${label}[${i}]`);
        if (!(value > (RELATIVE_ZERO * scales[i]!) / this.count)) {
          throw new KoraError<MetricsErrorCode>({
            code: "NON_POSITIVE_ESTIMATE",
            message: `mean HSIC₁(${label}[${i}], ${label}[${i}]) is ${value}; CKA's normaliser is undefined`,
            path: `${label}[${i}]`,
          });
        }
      });
    }
    const out: number[][] = [];
    for (let i = 0; i < na; i++) {
      const row: number[] = [];
      for (let j = 0; j < nb; j++) {
        row.push(
          this.symmetric && i === j
            ? 1
            : this.cross[i * nb + j]! / this.count / Math.sqrt(meanA[i]! * meanB[j]!),
        );
      }
      out.push(row);
    }
    if (this.symmetric) {
      for (let i = 0; i < na; i++) for (let j = 0; j < i; j++) out[i]![j] = out[j]![i]!;
    }
    return out;
  }

  /** Forgets every batch (and the batch size and layer counts). */
  reset(): void {
    this.batchSize = undefined;
    this.layersA = undefined;
    this.layersB = undefined;
    this.count = 0;
    this.dropped = 0;
  }
}

function batchGram(m: DenseMatrix): BatchGram {
  const n = m.rows;
  if (centerColumns(m)) return { gram: new Float64Array(n * n), self: 0, scale: 0 };
  return finishGram(linearGram(m), n);
}

function finishGram(gram: Float64Array, n: number): BatchGram {
  const scale = frobeniusDot(gram, gram);
  centerGram(gram, n, true);
  return { gram, self: frobeniusDot(gram, gram), scale };
}

/**
 * {@link batchGram} for every layer, the products `XXᵀ` on the pool's workers: layers are centred here (the
 * constant ones need no product) and dealt out in turn, so each worker gets about the same number of them.
 */
async function layerGrams(layers: DenseMatrix[], pool: CKAWorkerPool): Promise<BatchGram[]> {
  const out: (BatchGram | undefined)[] = layers.map((m) =>
    centerColumns(m) ? { gram: new Float64Array(m.rows * m.rows), self: 0, scale: 0 } : undefined,
  );
  const todo = layers.map((_, i) => i).filter((i) => out[i] === undefined);
  const workers = Math.min(poolWorkers(pool), todo.length);
  if (workers === 0) {
    for (const i of todo) out[i] = finishGram(linearGram(layers[i]!), layers[i]!.rows);
    return out as BatchGram[];
  }
  const tasks: Promise<void>[] = [];
  for (let w = 0; w < workers; w++) {
    const mine = todo.filter((_, t) => t % workers === w);
    const items = mine.map((i) => ({ data: layers[i]!.data, rows: layers[i]!.rows, cols: layers[i]!.cols }));
    tasks.push(
      // The centred copies are this call's own: transferred, not copied.
      send(
        pool,
        w,
        { id: 0, op: "rows", items },
        items.map((item) => (item.data as Float64Array).buffer as ArrayBuffer),
      ).then((grams) => {
        (grams as Float64Array[]).forEach((gram, t) => {
          out[mine[t]!] = finishGram(gram, layers[mine[t]!]!.rows);
        });
      }),
    );
  }
  await Promise.all(tasks);
  return out as BatchGram[];
}
