/**
 * `@kora/datasets/node`: the Node.js file readers (CIFAR, Tiny-ImageNet, NYU Depth V2, IDX) and the dataset
 * registry that opens them by name. Everything that needs no file system is in the main entry, `@kora/datasets`.
 * @packageDocumentation
 */
export type { Cifar10Options, Cifar100Options } from "./cifar/cifar-dataset";
export {
  CIFAR10_CLASSES,
  CIFAR10_SOURCE,
  CIFAR100_SOURCE,
  openCifar10,
  openCifar100,
} from "./cifar/cifar-dataset";
export type { IdxDatasetOptions } from "./idx/idx-dataset";
export {
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_DEFAULT_ROOT,
  MNIST_CLASSES,
  openIdxDataset,
  readIdxFile,
} from "./idx/idx-dataset";
export type { DenseDepthNyuDataset, DenseDepthNyuOptions } from "./nyu/dense-depth-dataset";
export { DENSE_DEPTH_SOURCE, openDenseDepthNyu } from "./nyu/dense-depth-dataset";
export type { MatArray } from "./nyu/mat-v5";
export { readMatV5 } from "./nyu/mat-v5";
export type { NyuDepthV2Dataset, NyuDepthV2Options } from "./nyu/nyu-labeled-dataset";
export { NYU_LABELED_SOURCE, openNyuDepthV2, readNyuSplitFile } from "./nyu/nyu-labeled-dataset";
export type { NyuSplitIndices } from "./nyu/nyu-splits";
export { NYU_OFFICIAL_SPLIT_SIZES, parseNyuSplitJson, validateNyuSplit } from "./nyu/nyu-splits";
export type {
  BuiltinDatasetName,
  BuiltinDatasets,
  Cifar10OpenOptions,
  Cifar100OpenOptions,
  DatasetDefinition,
  IdxOpenOptions,
  NyuDepthDataset,
  NyuDepthV2OpenOptions,
  OpenDatasetOptions,
  SyntheticDepthOpenOptions,
  SyntheticOpenOptions,
  SyntheticSegmentationOpenOptions,
  TinyImageNetOpenOptions,
} from "./registry/registry";
export { getDataset, listDatasets, openDataset, registerDataset } from "./registry/registry";
export type { TinyImageNetDataset, TinyImageNetOptions } from "./tiny-imagenet/tiny-imagenet-dataset";
export { openTinyImageNet, TINY_IMAGENET_SOURCE } from "./tiny-imagenet/tiny-imagenet-dataset";
