import { KoraError } from "../errors";
import type { MetricsErrorCode } from "../errors/kora-error";
import { type Matrix, toDense } from "../matrix";
import { type ColorScaleName, isDark, namedScale, SCALE_NAMES } from "./color-scales";

/** Options of {@link heatmapSvg}. */
export interface HeatmapSvgOptions {
  /** Label of each row, top to bottom. Default `0, 1, …`. */
  rowLabels?: readonly string[];
  /** Label of each column, left to right. Default `0, 1, …`. */
  colLabels?: readonly string[];
  /** Title drawn above the matrix. Default none. */
  title?: string;
  /** Axis title for the rows (drawn vertically on the left). Default none. */
  rowTitle?: string;
  /** Axis title for the columns (drawn below the column labels). Default none. */
  colTitle?: string;
  /** Value mapped to the low end of the colour scale. Default: the smallest finite value. */
  min?: number;
  /** Value mapped to the high end of the colour scale. Default: the largest finite value. */
  max?: number;
  /**
   * A named scale (`"viridis"` default, `"magma"`, `"blues"`, `"greys"`) or a function from t ∈ [0, 1] to a CSS
   * colour (`#rrggbb` lets the text colour adapt to the background).
   */
  colorScale?: ColorScaleName | ((t: number) => string);
  /** Side of one cell in pixels. Default: 44 for up to 12 × 12, shrinking to fit about 560 px, at least 6. */
  cellSize?: number;
  /** Print values in the cells: `"auto"` (default: when cells are at least 26 px), `true` or `false`. */
  showValues?: boolean | "auto";
  /** Decimal places of printed values and colour-bar ticks. Default `2`. */
  digits?: number;
}

const FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const textWidth = (text: string, size: number): number => text.length * size * 0.6;

/**
 * Renders a matrix (for example a layer × layer CKA matrix) as a self-contained SVG heatmap: coloured cells with
 * the values printed in them when the cells are large enough, row and column labels, a title, and a colour bar
 * with ticks. NaN entries are drawn grey as missing. The SVG has no external references (no fonts, scripts or
 * images), so it can be written to a file or inlined in HTML as is.
 *
 * @param matrix - Rows of values, or a {@link Matrix}; ±Infinity is rejected.
 * @returns The SVG document as a string.
 * @throws KoraError `SHAPE_MISMATCH` (ragged rows, label counts), `NON_FINITE` (±Infinity), `INVALID_ARGUMENT`.
 */
export function heatmapSvg(
  matrix: readonly (readonly number[])[] | Matrix,
  options: HeatmapSvgOptions = {},
): string {
  const { rows, cols, data } = readMatrix(matrix);
  if (rows === 0 || cols === 0) {
    throw new KoraError<MetricsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: "heatmapSvg needs a non-empty matrix",
      path: "matrix",
    });
  }
  const rowLabels = options.rowLabels ?? Array.from({ length: rows }, (_, i) => String(i));
  const colLabels = options.colLabels ?? Array.from({ length: cols }, (_, i) => String(i));
  for (const [labels, count, name] of [
    [rowLabels, rows, "rowLabels"],
    [colLabels, cols, "colLabels"],
  ] as const) {
    if (labels.length !== count) {
      throw new KoraError<MetricsErrorCode>({
        code: "SHAPE_MISMATCH",
        message: `options.${name} must have ${count} entries, got ${labels.length}`,
        path: `options.${name}`,
      });
    }
  }
  const digits = options.digits ?? 2;
  if (!Number.isInteger(digits) || digits < 0 || digits > 10) {
    throw new KoraError<MetricsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `options.digits must be an integer in [0, 10], got ${digits}`,
      path: "options.digits",
    });
  }
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of data) {
    if (Number.isNaN(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (lo === Number.POSITIVE_INFINITY) {
    lo = 0;
    hi = 1;
  }
  const min = options.min ?? lo;
  let max = options.max ?? hi;
  if (!Number.isFinite(min) || !Number.isFinite(max) || max < min) {
    throw new KoraError<MetricsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `options.min and options.max must be finite with min <= max, got ${min} and ${max}`,
      path: "options.min",
    });
  }
  if (max === min) max = min + 1;
  const scale = resolveScale(options.colorScale ?? "viridis");
  const cell = options.cellSize ?? Math.max(6, Math.min(44, Math.floor(560 / Math.max(rows, cols))));
  if (!(cell > 0) || !Number.isFinite(cell)) {
    throw new KoraError<MetricsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `options.cellSize must be a positive number, got ${cell}`,
      path: "options.cellSize",
    });
  }
  const showValues =
    options.showValues === "auto" || options.showValues === undefined ? cell >= 26 : options.showValues;

  const labelSize = Math.max(8, Math.min(13, cell * 0.45));
  const valueSize = Math.max(7, Math.min(13, cell * 0.3));
  const rowLabelWidth = Math.max(...rowLabels.map((l) => textWidth(l, labelSize)));
  const colLabelWidth = Math.max(...colLabels.map((l) => textWidth(l, labelSize)));
  const rotate = colLabelWidth > cell - 4;
  const colLabelHeight = rotate ? colLabelWidth * Math.SQRT1_2 + labelSize : labelSize + 4;

  const pad = 12;
  const titleHeight = options.title ? 30 : 0;
  const rowTitleWidth = options.rowTitle ? 22 : 0;
  const left = pad + rowTitleWidth + rowLabelWidth + 8;
  const top = pad + titleHeight;
  const gridW = cols * cell;
  const gridH = rows * cell;
  const barX = left + gridW + 18;
  const barW = 14;
  const tickLabels = Array.from({ length: 5 }, (_, i) => (min + ((max - min) * i) / 4).toFixed(digits));
  const barLabelWidth = Math.max(...tickLabels.map((l) => textWidth(l, 11)));
  const colTitleHeight = options.colTitle ? 22 : 0;
  const width = Math.ceil(
    Math.max(barX + barW + 6 + barLabelWidth + pad, textWidth(options.title ?? "", 16) + 2 * pad),
  );
  const height = Math.ceil(top + gridH + 6 + colLabelHeight + colTitleHeight + pad);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}">`,
  );
  if (options.title) out.push(`<title>${escapeXml(options.title)}</title>`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  if (options.title) {
    out.push(
      `<text x="${left + gridW / 2}" y="${pad + 16}" font-size="16" font-weight="600" text-anchor="middle" fill="#111">${escapeXml(options.title)}</text>`,
    );
  }
  const fmt = (v: number): string => (Number.isNaN(v) ? "–" : v.toFixed(digits));
  const cells: string[] = [];
  const values: string[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = data[r * cols + c]!;
      const x = left + c * cell;
      const y = top + r * cell;
      const fill = Number.isNaN(v) ? "#d0d0d0" : scale((v - min) / (max - min));
      cells.push(
        `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${fill}"><title>${escapeXml(`${rowLabels[r]} × ${colLabels[c]}: ${fmt(v)}`)}</title></rect>`,
      );
      if (showValues) {
        values.push(
          `<text x="${x + cell / 2}" y="${y + cell / 2}" font-size="${valueSize}" text-anchor="middle" dominant-baseline="central" fill="${isDark(fill) ? "#ffffff" : "#111111"}">${fmt(v)}</text>`,
        );
      }
    }
  }
  // crispEdges: no anti-aliased seams between neighbouring cells.
  out.push(`<g shape-rendering="crispEdges">`, ...cells, "</g>", ...values);
  out.push(
    `<rect x="${left}" y="${top}" width="${gridW}" height="${gridH}" fill="none" stroke="#444" stroke-width="1"/>`,
  );
  rowLabels.forEach((label, r) => {
    out.push(
      `<text x="${left - 6}" y="${top + r * cell + cell / 2}" font-size="${labelSize}" text-anchor="end" dominant-baseline="central" fill="#222">${escapeXml(label)}</text>`,
    );
  });
  const labelY = top + gridH + 6;
  colLabels.forEach((label, c) => {
    const x = left + c * cell + cell / 2;
    out.push(
      rotate
        ? `<text x="${x}" y="${labelY + labelSize * 0.7}" font-size="${labelSize}" text-anchor="end" transform="rotate(-45 ${x} ${labelY + labelSize * 0.7})" fill="#222">${escapeXml(label)}</text>`
        : `<text x="${x}" y="${labelY + labelSize}" font-size="${labelSize}" text-anchor="middle" fill="#222">${escapeXml(label)}</text>`,
    );
  });
  if (options.colTitle) {
    out.push(
      `<text x="${left + gridW / 2}" y="${labelY + colLabelHeight + 16}" font-size="13" text-anchor="middle" fill="#111">${escapeXml(options.colTitle)}</text>`,
    );
  }
  if (options.rowTitle) {
    const x = pad + 10;
    const y = top + gridH / 2;
    out.push(
      `<text x="${x}" y="${y}" font-size="13" text-anchor="middle" transform="rotate(-90 ${x} ${y})" fill="#111">${escapeXml(options.rowTitle)}</text>`,
    );
  }
  // Colour bar: a vertical gradient, high values on top.
  const id = `kora-heatmap-bar-${Math.random().toString(36).slice(2, 10)}`;
  out.push(`<defs><linearGradient id="${id}" x1="0" y1="1" x2="0" y2="0">`);
  for (let i = 0; i <= 20; i++) out.push(`<stop offset="${i / 20}" stop-color="${scale(i / 20)}"/>`);
  out.push("</linearGradient></defs>");
  out.push(
    `<rect x="${barX}" y="${top}" width="${barW}" height="${gridH}" fill="url(#${id})" stroke="#444" stroke-width="1"/>`,
  );
  tickLabels.forEach((label, i) => {
    const y = top + gridH - (gridH * i) / 4;
    out.push(
      `<line x1="${barX + barW}" y1="${y}" x2="${barX + barW + 4}" y2="${y}" stroke="#444" stroke-width="1"/>`,
    );
    out.push(
      `<text x="${barX + barW + 6}" y="${y}" font-size="11" dominant-baseline="central" fill="#222">${label}</text>`,
    );
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}

function readMatrix(matrix: readonly (readonly number[])[] | Matrix): {
  rows: number;
  cols: number;
  data: number[];
} {
  // NaN marks missing cells; replace it before validation so toDense only rejects ±Infinity.
  const nan: boolean[] = [];
  const swap = (v: number, i: number): number => {
    nan[i] = Number.isNaN(v);
    return nan[i] ? 0 : v;
  };
  let cleaned: readonly (readonly number[])[] | Matrix;
  if (Array.isArray(matrix)) {
    let i = 0;
    cleaned = (matrix as readonly (readonly number[])[]).map((row) =>
      Array.isArray(row) ? row.map((v) => swap(v, i++)) : row,
    );
  } else {
    const m = matrix as Matrix;
    cleaned = { rows: m.rows, cols: m.cols, data: Array.from(m.data ?? [], swap) };
  }
  const dense = toDense(cleaned, "matrix");
  return {
    rows: dense.rows,
    cols: dense.cols,
    data: Array.from(dense.data, (v, i) => (nan[i] ? Number.NaN : v)),
  };
}

function resolveScale(scale: ColorScaleName | ((t: number) => string)): (t: number) => string {
  if (typeof scale === "function") return scale;
  if (!SCALE_NAMES.includes(scale)) {
    throw new KoraError<MetricsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `options.colorScale must be one of ${SCALE_NAMES.join(", ")} or a function, got ${String(scale)}`,
      path: "options.colorScale",
    });
  }
  return namedScale(scale);
}
