export * from "./core";
export type { IdxDatasetOptions } from "./idx/idx-dataset";
export {
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_DEFAULT_ROOT,
  MNIST_CLASSES,
  openIdxDataset,
  readIdxFile,
} from "./idx/idx-dataset";
export type {
  BuiltinDatasetName,
  BuiltinDatasets,
  DatasetDefinition,
  IdxOpenOptions,
  OpenDatasetOptions,
} from "./registry/registry";
export { getDataset, listDatasets, openDataset, registerDataset } from "./registry/registry";
