/** Named colour scales for {@link heatmapSvg}. */
export type ColorScaleName = "viridis" | "magma" | "blues" | "greys";

const STOPS: Record<ColorScaleName, readonly string[]> = {
  viridis: [
    "#440154",
    "#482475",
    "#414487",
    "#355f8d",
    "#2a788e",
    "#21918c",
    "#22a884",
    "#44bf70",
    "#7ad151",
    "#bddf26",
    "#fde725",
  ],
  magma: [
    "#000004",
    "#140e36",
    "#3b0f70",
    "#641a80",
    "#8c2981",
    "#b73779",
    "#de4968",
    "#f7705c",
    "#fe9f6d",
    "#fecf92",
    "#fcfdbf",
  ],
  blues: ["#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b"],
  greys: ["#ffffff", "#f0f0f0", "#d9d9d9", "#bdbdbd", "#969696", "#737373", "#525252", "#252525", "#000000"],
};

function parseHex(hex: string): [number, number, number] {
  return [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
}

function toHex(rgb: readonly number[]): string {
  return `#${rgb.map((v) => Math.round(v).toString(16).padStart(2, "0")).join("")}`;
}

/** Returns a function mapping t ∈ [0, 1] to a `#rrggbb` colour by linear interpolation between stops. @internal */
export function namedScale(name: ColorScaleName): (t: number) => string {
  const stops = STOPS[name].map(parseHex);
  return (t: number) => {
    const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
    const i = Math.min(stops.length - 2, Math.floor(x));
    const f = x - i;
    const a = stops[i]!;
    const b = stops[i + 1]!;
    return toHex([0, 1, 2].map((c) => a[c]! + (b[c]! - a[c]!) * f));
  };
}

/** Whether `colour` (`#rrggbb`) is dark enough for white text (WCAG relative luminance < 0.4). @internal */
export function isDark(colour: string): boolean {
  const m = /^#([0-9a-f]{6})$/i.exec(colour);
  if (m === null) return false;
  const [r, g, b] = parseHex(colour).map((v) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.4;
}

/** Every scale name (for validation). @internal */
export const SCALE_NAMES = Object.keys(STOPS) as ColorScaleName[];
