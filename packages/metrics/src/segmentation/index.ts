export type { SegmentationMetrics, SegmentationMetricsOptions } from "./segmentation-metrics";
export { segmentationMetrics } from "./segmentation-metrics";
