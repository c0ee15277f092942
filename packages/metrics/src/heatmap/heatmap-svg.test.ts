import { describe, expect, it } from "vitest";
import { codeOf } from "../../test/helpers";
import { isDark, namedScale } from "./color-scales";
import { heatmapSvg } from "./heatmap-svg";

const matrix = [
  [1, 0.5, 0.25],
  [0.5, 1, Number.NaN],
];

describe("heatmapSvg", () => {
  it("draws one cell per entry, values, labels, title and a colour bar", () => {
    const svg = heatmapSvg(matrix, {
      rowLabels: ["a", "b"],
      colLabels: ["x", "y", "z"],
      title: "CKA <test> & co",
      min: 0,
      max: 1,
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(svg.match(/<rect x="[\d.]+" y="[\d.]+" width="44" height="44" fill=/g)).toHaveLength(6);
    expect(svg).toContain(">0.50</text>");
    expect(svg).toContain(">0.25</text>");
    expect(svg).toContain(">–</text>"); // NaN cell
    expect(svg).toContain('fill="#d0d0d0"');
    expect(svg).toContain("CKA &#60;test&#62; &#38; co"); // escaped title
    expect(svg).not.toContain("<test>");
    for (const tick of ["0.00", "0.25", "0.50", "0.75", "1.00"]) expect(svg).toContain(`>${tick}</text>`);
    expect(svg).toContain("<linearGradient");
    expect(svg).not.toMatch(/href="http|<script|<image/); // self-contained
    // viridis ends: 1 → yellow, 0.25 → blue-purple
    expect(svg).toContain('fill="#fde725"');
  });

  it("omits values in large matrices unless asked, and honours digits", () => {
    const big = Array.from({ length: 40 }, (_, i) => Array.from({ length: 40 }, (_, j) => Math.cos(i - j)));
    const svg = heatmapSvg(big);
    expect(svg).not.toMatch(/dominant-baseline="central" fill="#(ffffff|111111)">-?\d\.\d\d<\/text>/);
    const withValues = heatmapSvg(big, { showValues: true, digits: 1 });
    expect(withValues).toMatch(/fill="#(ffffff|111111)">-?\d\.\d<\/text>/);
  });

  it("accepts a Matrix, custom colour functions and explicit ranges", () => {
    const svg = heatmapSvg(
      { rows: 1, cols: 2, data: new Float32Array([0, 2]) },
      { colorScale: () => "#123456", min: -1, max: 3 },
    );
    expect(svg.match(/fill="#123456"/g)!.length).toBeGreaterThanOrEqual(2);
    expect(svg).toContain(">-1.00</text>");
    expect(svg).toContain(">3.00</text>");
  });

  it("colour helpers", () => {
    const viridis = namedScale("viridis");
    expect(viridis(0)).toBe("#440154");
    expect(viridis(1)).toBe("#fde725");
    expect(viridis(2)).toBe("#fde725");
    expect(isDark("#440154")).toBe(true);
    expect(isDark("#fde725")).toBe(false);
  });

  it("error codes", () => {
    expect(codeOf(() => heatmapSvg([[1, 2], [3]]))).toBe("SHAPE_MISMATCH");
    expect(codeOf(() => heatmapSvg(matrix, { rowLabels: ["a"] }))).toBe("SHAPE_MISMATCH");
    expect(codeOf(() => heatmapSvg([[1, Number.POSITIVE_INFINITY]]))).toBe("NON_FINITE");
    expect(codeOf(() => heatmapSvg([]))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => heatmapSvg(matrix, { min: 2, max: 1 }))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => heatmapSvg(matrix, { colorScale: "jet" as "viridis" }))).toBe("INVALID_ARGUMENT");
  });
});
