export type { Panels } from "./panel-product";
export { PANEL, packPanels, panelProduct } from "./panel-product";
export { wasmKernel } from "./wasm-kernel";
