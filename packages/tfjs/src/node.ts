/**
 * `@kora/tfjs/node`: adapter and peft folders on disk (save, load, export, import, fusion stage 2), written
 * atomically with `@kora/spec/node`. The main entry, `@kora/tfjs`, has everything else and runs in browsers.
 * @packageDocumentation
 */
export type {
  ExportPeftOptions,
  LoadAdapterOptions,
  LoadFusionAdapterOptions,
  SaveAdapterOptions,
} from "./node/adapter-folders";
export { exportPeft, importPeft, loadAdapter, loadFusionAdapter, saveAdapter } from "./node/adapter-folders";
export { MODEL_JSON_FILE, nodeFileSystem, WEIGHTS_BIN_FILE } from "./node/layers-model-folder";
