export type { Panels } from "./panel-product";
export { PANEL, packPanels, panelProduct, productEngine } from "./panel-product";
export type { ColumnPart, ColumnsGram, ProductEngine, Source } from "./product-engine";
export { createProductEngine } from "./product-engine";
export { kernelModuleBytes } from "./wasm-kernel";
