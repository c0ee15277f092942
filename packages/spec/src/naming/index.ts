export type { HfModulePathOptions } from "./hf-vit";
export { hfBlockModuleSuffix, hfModulePath, parseHfModulePath } from "./hf-vit";
