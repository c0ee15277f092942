import { basename, dirname, resolve } from "node:path";
import { ckaMatrix, heatmapSvg, linearCKA, type Matrix, MinibatchCKA, rbfCKA } from "@kora/metrics";
import { KoraError } from "@kora/spec";
import type { Output } from "../output/context";
import { createProgress } from "../output/progress";
import { renderTable } from "../output/table";
import {
  checkOutputFiles,
  type OutputFile,
  prepareOutputFolder,
  removeCreatedFolders,
  writeOutputFile,
} from "../run/output-folder";
import { UsageError } from "../support/errors";
import { type FeatureSource, type Features, parseFeatureSource, readFeatures } from "../tensors/features";

function checkFlags(options: CkaOptions): void {
  if (options.threshold !== undefined && options.kernel !== "rbf") {
    throw new UsageError("--threshold applies to --kernel rbf only");
  }
  if (options.minibatch !== undefined && options.kernel !== "linear") {
    throw new UsageError("--minibatch computes linear CKA; it cannot be combined with --kernel rbf");
  }
}

/** Rows [start, start + count) of a matrix, as a view when the data is a typed array. */
function sliceRows(matrix: Matrix, start: number, count: number): Matrix {
  const from = start * matrix.cols;
  const to = from + count * matrix.cols;
  const data = Array.isArray(matrix.data)
    ? matrix.data.slice(from, to)
    : (matrix.data as Float32Array | Float64Array).subarray(from, to);
  return { rows: count, cols: matrix.cols, data };
}

function minibatchMatrix(a: Features[], b: Features[], size: number, symmetric: boolean, output: Output) {
  const n = a[0]!.matrix.rows;
  for (const f of [...a, ...b]) {
    if (f.matrix.rows !== n) {
      throw new KoraError({
        code: "SHAPE_MISMATCH",
        message: `every representation must have the same number of rows (examples): ${a[0]!.name} has ${n}, ${f.name} has ${f.matrix.rows}`,
      });
    }
  }
  const batches = Math.floor(n / size);
  if (batches === 0) {
    throw new UsageError(`--minibatch ${size} is larger than the ${n} examples`);
  }
  const grid = new MinibatchCKA();
  const progress = createProgress(output, { label: "batches", total: batches });
  try {
    for (let i = 0; i < batches; i++) {
      const batchA = a.map((f) => sliceRows(f.matrix, i * size, size));
      grid.update(batchA, symmetric ? undefined : b.map((f) => sliceRows(f.matrix, i * size, size)));
      progress.tick();
    }
  } finally {
    progress.stop();
  }
  const rest = n - batches * size;
  if (rest > 0) output.note(`kora cka: the last ${rest} examples (a partial batch) were left out`);
  return grid.result();
}

/** Options of `kora cka`, as commander parses them. */
export interface CkaOptions {
  x: string;
  y: string;
  kernel: "linear" | "rbf";
  threshold?: number;
  debiased?: boolean;
  minibatch?: number;
  svg?: string;
  png?: string;
  /** Replace the --svg / --png files when they exist. */
  force?: boolean;
}

/** What a heatmap axis shows: the tensors of a file (or one tensor), and the flag that named it. */
function axisTitle(source: FeatureSource, flag: string): string {
  const file = basename(source.file);
  return source.tensor === undefined ? `tensors of ${file} (${flag})` : `${file}:${source.tensor} (${flag})`;
}

/** Runs `kora cka`. */
export async function runCka(options: CkaOptions, output: Output): Promise<void> {
  checkFlags(options);
  // The heatmap files are checked before any work: a path that cannot be written fails at once, and an existing
  // file is not replaced without --force.
  const files: OutputFile[] = [];
  if (options.svg !== undefined) files.push({ path: options.svg, flag: "--svg" });
  if (options.png !== undefined) files.push({ path: options.png, flag: "--png" });
  await checkOutputFiles(files, options.force);
  const created: string[] = [];
  for (const file of files) {
    created.push(...(await prepareOutputFolder(dirname(resolve(file.path)), file.flag)).created);
  }
  let failed = true;
  try {
    await compareFeatures(options, output);
    failed = false;
  } finally {
    if (failed) await removeCreatedFolders(created);
  }
}

async function compareFeatures(options: CkaOptions, output: Output): Promise<void> {
  const xSource = parseFeatureSource(options.x);
  const ySource = parseFeatureSource(options.y);
  const x = await readFeatures(xSource, "--x");
  const sameSource = xSource.file === ySource.file && xSource.tensor === ySource.tensor;
  const y = sameSource ? x : await readFeatures(ySource, "--y");
  const kernelOptions = {
    kernel: options.kernel,
    debiased: options.debiased === true,
    ...(options.threshold === undefined ? {} : { threshold: options.threshold }),
  };
  const a = x.features;
  const b = y.features;
  const symmetric = sameSource && !x.single;
  let matrix: number[][];
  if (options.minibatch !== undefined) {
    matrix = minibatchMatrix(a, b, options.minibatch, symmetric, output);
  } else if (x.single && y.single) {
    const [fx, fy] = [a[0]!.matrix, b[0]!.matrix];
    const value =
      options.kernel === "rbf"
        ? rbfCKA(fx, fy, { debiased: kernelOptions.debiased, threshold: options.threshold ?? 1 })
        : linearCKA(fx, fy, { debiased: kernelOptions.debiased });
    matrix = [[value]];
  } else {
    matrix = ckaMatrix(
      a.map((f) => f.matrix),
      symmetric ? undefined : b.map((f) => f.matrix),
      kernelOptions,
    );
  }
  const rowLabels = a.map((f) => f.name);
  const colLabels = b.map((f) => f.name);
  const method = `${options.minibatch === undefined ? "" : `minibatch (${options.minibatch}) `}${options.debiased ? "debiased " : ""}${options.kernel} CKA`;

  if (options.svg !== undefined || options.png !== undefined) {
    // One colour scale for every plot (CKA lies in [0, 1]; debiased estimates can dip below 0).
    const min = Math.min(0, ...matrix.flat());
    const svg = heatmapSvg(matrix, {
      rowLabels,
      colLabels,
      title: method,
      rowTitle: axisTitle(xSource, "--x"),
      colTitle: axisTitle(ySource, "--y"),
      min,
      max: 1,
    });
    if (options.svg !== undefined) {
      await writeOutputFile(options.svg, svg, "--svg");
      output.note(`wrote ${options.svg}`);
    }
    if (options.png !== undefined) {
      const { default: sharp } = await import("sharp");
      const png = await sharp(Buffer.from(svg), { density: 144 }).png().toBuffer();
      await writeOutputFile(options.png, png, "--png");
      output.note(`wrote ${options.png}`);
    }
  }

  const scalar = x.single && y.single;
  output.result(
    () =>
      scalar ? { cka: matrix[0]![0]! } : { kernel: options.kernel, rows: rowLabels, cols: colLabels, matrix },
    () => {
      if (scalar) return `${method}: ${matrix[0]![0]!.toFixed(6)}`;
      const table = renderTable(
        [{ header: "x \\ y" }, ...colLabels.map((header) => ({ header, align: "right" as const }))],
        matrix.map((row, i) => [rowLabels[i]!, ...row.map((v) => v.toFixed(4))]),
        (t) => output.style("bold", t),
      );
      return `${method}, ${rowLabels.length} × ${colLabels.length}\n\n${table}`;
    },
  );
}
