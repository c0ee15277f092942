export type { KernelChoice, Panels } from "./panel-product";
export {
  ckaKernel,
  PANEL,
  packPanels,
  panelProduct,
  productEngine,
  useProductKernel,
} from "./panel-product";
export type { ColumnPart, ColumnsGram, ProductEngine, Source } from "./product-engine";
export { createProductEngine } from "./product-engine";
export { kernelModuleBytes } from "./wasm-kernel";
