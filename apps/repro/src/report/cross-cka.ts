import { join } from "node:path";
import { ckaMatrix, type Matrix, MinibatchCKA } from "@kora/metrics";
import { readFeatures } from "../tasks/features-file";
import type { Table } from "./build";

/**
 * Rows per minibatch of the minibatch CKA estimate; fewer than twice this many examples split into two batches
 * (Nguyen et al.'s unbiased HSIC needs at least 4 rows a batch).
 */
export const CKA_MINIBATCH = 64;

/** One pair of models compared block by block. */
export interface CrossPair {
  a: string;
  b: string;
  /** Block × block linear CKA (mean-pooled features), entry (i, j) = CKA(a's block i, b's block j), mean over seeds. */
  matrix: number[][];
  /** Mean over blocks of CKA(a's block i, b's block i), mean over seeds, under four estimates. */
  sameBlock: { linear: number; debiased: number; minibatch: number; cls: number };
}

/** Every pair of a CKA table's models and the frozen backbone. */
export interface CrossModelCka {
  experiment: string;
  models: string[];
  pairs: CrossPair[];
  seeds: number;
  examples: number;
}

interface FeatureFiles {
  mean: string;
  cls: string;
  backboneMean: string;
  backboneCls: string;
}

function meanOf(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function diagonal(matrix: readonly number[][]): number {
  return meanOf(matrix.map((row, i) => row[i] as number));
}

/**
 * Block × block CKA estimated over minibatches of {@link CKA_MINIBATCH} rows (half the examples when there are
 * fewer than twice that; a trailing short batch dropped); null with fewer than 8 examples.
 */
function minibatchMatrix(a: readonly Matrix[], b: readonly Matrix[]): number[][] | null {
  const estimate = new MinibatchCKA({ unequalBatch: "drop" });
  const rows = a[0]?.rows ?? 0;
  if (rows < 8) return null;
  const size = rows >= 2 * CKA_MINIBATCH ? CKA_MINIBATCH : Math.floor(rows / 2);
  const slice = (m: Matrix, from: number, to: number): Matrix => ({
    rows: to - from,
    cols: m.cols,
    data: m.data.slice(from * m.cols, to * m.cols),
  });
  for (let from = 0; from + size <= rows; from += size) {
    const to = from + size;
    estimate.update(
      a.map((m) => slice(m, from, to)),
      b.map((m) => slice(m, from, to)),
    );
  }
  return estimate.result();
}

/**
 * Compares the models of a CKA table (task `cka` rows that saved their features) with each other and with the
 * frozen backbone, every pair: the block × block linear CKA matrix of mean-pooled features, and the same-block CKA
 * under four estimates — linear, debiased (unbiased HSIC), minibatch (Nguyen et al.) and linear on the CLS token.
 * Seeds where a model's features are missing or cannot be read are left out, each with a warning naming the file
 * (`warn`, default stderr); null when fewer than two models have any.
 */
export function crossModelCka(
  table: Table,
  out: string,
  warn: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): CrossModelCka | null {
  const rows = table.rows.filter((row) => row.variant.task === "cka");
  const bySeed = new Map<number, Map<string, FeatureFiles>>();
  for (const row of rows) {
    for (const result of row.results) {
      const files = result.extra["features"] as FeatureFiles | undefined;
      if (result.status !== "ok" || files === undefined) continue;
      const seed = bySeed.get(result.seed) ?? new Map<string, FeatureFiles>();
      seed.set(row.variant.label, files);
      bySeed.set(result.seed, seed);
    }
  }
  const labels = rows.map((row) => row.variant.label);
  const complete = [...bySeed.entries()].filter(([, files]) => labels.every((label) => files.has(label)));
  if (labels.length < 2 || complete.length === 0) return null;
  const models = ["frozen backbone", ...labels];
  const sums = new Map<
    string,
    { matrix: number[][][]; linear: number[]; debiased: number[]; minibatch: number[]; cls: number[] }
  >();
  let examples = 0;
  for (const [, files] of complete) {
    const first = files.get(labels[0] as string) as FeatureFiles;
    const load = (path: string): Matrix[] | null => {
      const file = join(out, path);
      let problem: string;
      try {
        const features = readFeatures(file);
        if (features !== null) return features;
        problem = "it is missing";
      } catch (error) {
        problem = (error as Error).message;
      }
      // The local runner redoes a CKA run whose files are damaged before the report; a queued plan's report may
      // still meet one: it says so rather than dropping the seed silently (or failing the whole report).
      warn(`warning: ${file} cannot be read (${problem}); the cross-model comparison leaves its seed out`);
      return null;
    };
    const mean = new Map<string, Matrix[] | null>([["frozen backbone", load(first.backboneMean)]]);
    const cls = new Map<string, Matrix[] | null>([["frozen backbone", load(first.backboneCls)]]);
    for (const label of labels) {
      const f = files.get(label) as FeatureFiles;
      mean.set(label, load(f.mean));
      cls.set(label, load(f.cls));
    }
    if ([...mean.values(), ...cls.values()].some((m) => m === null)) continue;
    examples = (mean.get("frozen backbone") as Matrix[])[0]?.rows ?? 0;
    for (let i = 0; i < models.length; i++) {
      for (let j = i + 1; j < models.length; j++) {
        const [a, b] = [models[i] as string, models[j] as string];
        const [fa, fb] = [mean.get(a) as Matrix[], mean.get(b) as Matrix[]];
        const matrix = ckaMatrix(fa, fb);
        const key = `${i}:${j}`;
        const entry = sums.get(key) ?? { matrix: [], linear: [], debiased: [], minibatch: [], cls: [] };
        entry.matrix.push(matrix);
        entry.linear.push(diagonal(matrix));
        entry.debiased.push(diagonal(ckaMatrix(fa, fb, { debiased: true })));
        const minibatch = minibatchMatrix(fa, fb);
        entry.minibatch.push(minibatch === null ? Number.NaN : diagonal(minibatch));
        entry.cls.push(diagonal(ckaMatrix(cls.get(a) as Matrix[], cls.get(b) as Matrix[])));
        sums.set(key, entry);
      }
    }
  }
  if (sums.size === 0) return null;
  const pairs: CrossPair[] = [...sums.entries()].map(([key, entry]) => {
    const [i, j] = key.split(":").map(Number) as [number, number];
    const first = entry.matrix[0] as number[][];
    return {
      a: models[i] as string,
      b: models[j] as string,
      matrix: first.map((row, r) =>
        row.map((_, c) => meanOf(entry.matrix.map((m) => (m[r] as number[])[c] as number))),
      ),
      sameBlock: {
        linear: meanOf(entry.linear),
        debiased: meanOf(entry.debiased),
        minibatch: meanOf(entry.minibatch),
        cls: meanOf(entry.cls),
      },
    };
  });
  return {
    experiment: table.experiment.id,
    models,
    pairs,
    seeds: sums.values().next().value?.linear.length ?? 0,
    examples,
  };
}
