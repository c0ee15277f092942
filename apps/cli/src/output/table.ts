/** A column of {@link renderTable}. */
export interface Column {
  /** Header text. */
  header: string;
  /** Alignment of the cells; numbers read best right-aligned. Default `"left"`. */
  align?: "left" | "right";
}

/**
 * Renders rows as an aligned plain-text table (two spaces between columns, header underlined with dashes).
 * `style` decorates the header after padding, so colour codes never break alignment.
 */
export function renderTable(
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
  style: (text: string) => string = (text) => text,
): string {
  const widths = columns.map((column, i) =>
    Math.max(column.header.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  const pad = (text: string, i: number): string =>
    columns[i]?.align === "right" ? text.padStart(widths[i]!) : text.padEnd(widths[i]!);
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => pad(cell, i))
      .join("  ")
      .trimEnd();
  return [
    style(line(columns.map((c) => c.header))),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...rows.map((row) => line(columns.map((_, i) => row[i] ?? ""))),
  ].join("\n");
}

/** Two-column "key  value" lines with the keys padded to one width. */
export function renderFields(
  fields: readonly (readonly [string, string])[],
  style: (text: string) => string = (t) => t,
): string {
  const width = Math.max(...fields.map(([key]) => key.length));
  return fields.map(([key, value]) => `${style(key.padEnd(width))}  ${value}`).join("\n");
}

/** An integer with thousands separators: `86,466,149`. */
export function formatInteger(value: number): string {
  return value.toLocaleString("en-US", { maximumFractionDigits: 0 });
}

/** A fraction as a percentage with 4 decimals: `0.7720 %`. */
export function formatPercent(fraction: number, digits = 4): string {
  return `${(fraction * 100).toFixed(digits)} %`;
}
