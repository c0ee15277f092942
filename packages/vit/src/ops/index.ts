export { batchMatMul } from "./batch-matmul";
export { channelMatMul } from "./channel-matmul";
export { gelu } from "./gelu";
export { layerNorm } from "./layer-norm";
