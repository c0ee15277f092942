export { batchMatMul } from "./batch-matmul";
export { gelu } from "./gelu";
export { layerNorm } from "./layer-norm";
