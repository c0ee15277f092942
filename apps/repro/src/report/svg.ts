/** One line of {@link curvesSvg}: `loss` is the y value, whatever it measures. */
export interface CurveSeries {
  label: string;
  points: readonly { step: number; loss: number }[];
  /** Stroke colour (default: the palette in order). */
  color?: string;
  /** Draw dashed (a bound or reference line). */
  dashed?: boolean;
}

/**
 * A line chart of curves over optimizer steps as a self-contained SVG (no scripts, fonts or external references):
 * training loss by default, any per-step quantity with `options.yLabel`.
 */
export function curvesSvg(
  series: readonly CurveSeries[],
  title: string,
  options: { yLabel?: string } = {},
): string {
  // The legend gets the room its longest label needs (about 6 px per character at 10 px), and the plot grows
  // with the number of series, so no label is cut.
  const longest = Math.max(0, ...series.map((s) => s.label.length));
  const right = Math.max(120, 44 + Math.ceil(longest * 6));
  const width = 390 + right;
  const top = 30;
  const bottom = 40;
  const height = Math.max(300, top + 8 + series.length * 18 + bottom);
  const left = 56;
  const all = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.loss));
  const colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
  const esc = (t: string) => t.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
  if (all.length === 0) {
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="60" role="img"><text x="10" y="30" font-size="13">${esc(title)}: no curve</text></svg>`;
  }
  const maxStep = Math.max(...all.map((p) => p.step));
  const minStep = Math.min(...all.map((p) => p.step));
  let lo = Math.min(...all.map((p) => p.loss));
  let hi = Math.max(...all.map((p) => p.loss));
  if (hi - lo < 1e-9) {
    hi += 0.5;
    lo -= 0.5;
  }
  const x = (s: number) => left + ((s - minStep) / Math.max(1, maxStep - minStep)) * (width - left - right);
  const y = (l: number) => top + (1 - (l - lo) / (hi - lo)) * (height - top - bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(title)}" font-family="system-ui, Helvetica, Arial, sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${left}" y="18" font-size="13" font-weight="600">${esc(title)}</text>`,
    `<line x1="${left}" y1="${height - bottom}" x2="${width - right}" y2="${height - bottom}" stroke="#333"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${height - bottom}" stroke="#333"/>`,
  ];
  for (let k = 0; k <= 4; k++) {
    const value = lo + ((hi - lo) * k) / 4;
    parts.push(
      `<text x="${left - 6}" y="${y(value) + 4}" font-size="10" text-anchor="end">${value.toFixed(2)}</text>`,
      `<line x1="${left}" y1="${y(value)}" x2="${width - right}" y2="${y(value)}" stroke="#eee"/>`,
    );
  }
  parts.push(
    `<text x="${left}" y="${height - bottom + 16}" font-size="10">${minStep}</text>`,
    `<text x="${width - right}" y="${height - bottom + 16}" font-size="10" text-anchor="end">${maxStep}</text>`,
    `<text x="${(left + width - right) / 2}" y="${height - 8}" font-size="11" text-anchor="middle">optimizer step</text>`,
    `<text x="14" y="${(top + height - bottom) / 2}" font-size="11" transform="rotate(-90 14 ${(top + height - bottom) / 2})" text-anchor="middle">${esc(options.yLabel ?? "training loss (mean over seeds)")}</text>`,
  );
  series.forEach((s, i) => {
    const color = s.color ?? (colors[i % colors.length] as string);
    const dash = s.dashed === true ? ' stroke-dasharray="5 4"' : "";
    const points = s.points
      .filter((p) => Number.isFinite(p.loss))
      .map((p) => `${x(p.step).toFixed(1)},${y(p.loss).toFixed(1)}`);
    if (points.length === 1)
      parts.push(
        `<circle cx="${points[0]?.split(",")[0]}" cy="${points[0]?.split(",")[1]}" r="3" fill="${color}"/>`,
      );
    else
      parts.push(
        `<polyline fill="none" stroke="${color}" stroke-width="1.8"${dash} points="${points.join(" ")}"/>`,
      );
    const ly = top + 8 + i * 18;
    parts.push(
      `<line x1="${width - right + 10}" y1="${ly}" x2="${width - right + 30}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`,
      `<text x="${width - right + 34}" y="${ly + 4}" font-size="10">${esc(s.label)}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n");
}

/**
 * A row's gate trajectories: mean |g| per block over steps (light to dark from the first block to the last), with
 * Adam's reach (Σ lr) dashed — the farthest a gate can have moved from its start by that step.
 */
export function gateTrajectorySvg(
  trajectory: {
    steps: readonly number[];
    reach: readonly number[];
    blocks: readonly { block: number; absMean: readonly number[] }[];
  },
  title: string,
): string {
  const last = Math.max(1, trajectory.blocks.length - 1);
  const series: CurveSeries[] = trajectory.blocks.map((b, i) => {
    // From light blue (first block) to dark blue (last): 12 lines cannot take 12 palette colours apart.
    const t = i / last;
    const channel = (from: number, to: number) => Math.round(from + (to - from) * t);
    return {
      label: `block ${b.block}`,
      points: trajectory.steps.map((step, k) => ({ step, loss: b.absMean[k] as number })),
      color: `rgb(${channel(158, 8)},${channel(202, 48)},${channel(225, 107)})`,
    };
  });
  series.push({
    label: "Adam's reach (Σ lr)",
    points: trajectory.steps.map((step, k) => ({ step, loss: trajectory.reach[k] as number })),
    color: "#333",
    dashed: true,
  });
  return curvesSvg(series, title, { yLabel: "mean |g| (mean over seeds)" });
}
