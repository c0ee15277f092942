export type { ColorScaleName } from "./color-scales";
export type { HeatmapSvgOptions } from "./heatmap-svg";
export { heatmapSvg } from "./heatmap-svg";
