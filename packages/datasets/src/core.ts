// Browser-safe entry: nothing here imports node: modules.
export type { DatasetErrorCode } from "./errors";
export type { IdxArray, IdxDataType } from "./idx/parse-idx";
export { parseIdx } from "./idx/parse-idx";
export type { Random } from "./random/rng";
export { createRandom, hashSeed } from "./random/rng";
export type {
  ClassificationDataset,
  Dataset,
  DatasetBase,
  DepthDataset,
  DepthSample,
  ImageShape,
  LabeledImage,
  Split,
} from "./types";
