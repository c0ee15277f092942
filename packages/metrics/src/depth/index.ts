export type { CropBox, DepthMetrics, DepthMetricsOptions } from "./depth-metrics";
export { depthMetrics } from "./depth-metrics";
