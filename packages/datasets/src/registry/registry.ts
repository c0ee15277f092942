import { join } from "node:path";
import {
  CIFAR10_SOURCE,
  CIFAR100_SOURCE,
  type Cifar100Options,
  openCifar10,
  openCifar100,
} from "../cifar/cifar-dataset";
import { datasetError } from "../errors";
import {
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_DEFAULT_ROOT,
  MNIST_CLASSES,
  openIdxDataset,
} from "../idx/idx-dataset";
import { isFile } from "../internal/files";
import type { DatasetLimits } from "../limits";
import { DENSE_DEPTH_SOURCE, type DenseDepthNyuDataset, openDenseDepthNyu } from "../nyu/dense-depth-dataset";
import {
  NYU_LABELED_SOURCE,
  type NyuDepthV2Dataset,
  type NyuDepthV2Options,
  openNyuDepthV2,
} from "../nyu/nyu-labeled-dataset";
import { openSyntheticDepthDataset, type SyntheticDepthOptions } from "../synthetic/depth-scene";
import {
  openSyntheticSegmentationDataset,
  type SyntheticSegmentationOptions,
} from "../synthetic/segmentation-dataset";
import {
  openSyntheticDataset,
  type SyntheticDatasetOptions,
  type SyntheticSuiteName,
} from "../synthetic/synthetic-dataset";
import {
  openTinyImageNet,
  TINY_IMAGENET_SOURCE,
  type TinyImageNetDataset,
} from "../tiny-imagenet/tiny-imagenet-dataset";
import type { ClassificationDataset, Dataset, DepthDataset, SegmentationDataset, Split } from "../types";

/** Options every dataset accepts in {@link openDataset}. */
export interface OpenDatasetOptions {
  /** The folder as the user unpacked it. Fashion-MNIST defaults to `/usr/share/datasets/fashion-mnist`. */
  root?: string;
  /** Split to open; default `"train"`. */
  split?: Split;
  /** Compare counts with the official numbers when the full dataset is present; default `true`. */
  verifyCounts?: boolean;
  /**
   * Overrides of `DEFAULT_DATASET_LIMITS`, the caps on what a file may make a reader allocate (file readers only;
   * see the README's "Limits on hostile input").
   */
  limits?: Partial<DatasetLimits>;
}

/** A registry entry: what a dataset is, where to get it, and how to open it. */
export interface DatasetDefinition<
  Options extends OpenDatasetOptions = OpenDatasetOptions,
  Result extends Dataset = Dataset,
> {
  /** Registry name (`"cifar100"`). */
  name: string;
  /** `"classification"`, `"depth"` or `"segmentation"`. */
  task: Result["task"];
  /** Storage format on disk (`"IDX (gzip)"`, `"CIFAR binary"`, …). */
  format: string;
  /** Where to get the files, as shown in "not found" messages. */
  source: string;
  /** License note. */
  license: string;
  /** Splits {@link openDataset} accepts for it. */
  splits: readonly Split[];
  /** Opens a split. */
  open(options: Options): Promise<Result>;
}

/** Options for Fashion-MNIST and MNIST. */
export type IdxOpenOptions = OpenDatasetOptions;

const FASHION_SOURCE =
  "Install the Debian package dataset-fashion-mnist (apt-get install -y dataset-fashion-mnist) or download the four *-ubyte.gz files from https://github.com/zalandoresearch/fashion-mnist";
const MNIST_SOURCE =
  "Download train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (originally from http://yann.lecun.com/exdb/mnist/; mirrored e.g. at https://ossci-datasets.s3.amazonaws.com/mnist/)";

const fashionMnist: DatasetDefinition<IdxOpenOptions, ClassificationDataset> = {
  name: "fashion-mnist",
  task: "classification",
  format: "IDX (raw or gzip), 28×28 grayscale",
  source: FASHION_SOURCE,
  license: "MIT (Zalando Research)",
  splits: ["train", "test", "all"],
  open: async (options) =>
    openIdxDataset({
      name: "fashion-mnist",
      root: options.root ?? FASHION_MNIST_DEFAULT_ROOT,
      split: options.split ?? "train",
      classes: FASHION_MNIST_CLASSES,
      hint: FASHION_SOURCE,
      ...(options.verifyCounts === undefined ? {} : { verifyCounts: options.verifyCounts }),
      ...(options.limits === undefined ? {} : { limits: options.limits }),
    }),
};

const mnist: DatasetDefinition<IdxOpenOptions, ClassificationDataset> = {
  name: "mnist",
  task: "classification",
  format: "IDX (raw or gzip), 28×28 grayscale",
  source: MNIST_SOURCE,
  license: "CC BY-SA 3.0 (LeCun, Cortes, Burges)",
  splits: ["train", "test", "all"],
  open: async (options) => {
    if (options.root === undefined) {
      throw datasetError("DATASET_NOT_FOUND", `mnist: no root given. ${MNIST_SOURCE}`, "root");
    }
    return openIdxDataset({
      name: "mnist",
      root: options.root,
      split: options.split ?? "train",
      classes: MNIST_CLASSES,
      hint: MNIST_SOURCE,
      ...(options.verifyCounts === undefined ? {} : { verifyCounts: options.verifyCounts }),
      ...(options.limits === undefined ? {} : { limits: options.limits }),
    });
  },
};

/** Options for CIFAR-10 in {@link openDataset}. */
export type Cifar10OpenOptions = OpenDatasetOptions;

/** Options for CIFAR-100 in {@link openDataset}. */
export interface Cifar100OpenOptions extends OpenDatasetOptions {
  /** Fine (100 classes, default) or coarse (20 superclasses) labels. */
  labels?: Cifar100Options["labels"];
}

function requireRoot(name: string, root: string | undefined, source: string): string {
  if (root === undefined) {
    throw datasetError(
      "DATASET_NOT_FOUND",
      `${name}: no root given (the folder as you unpacked it). ${source}`,
      "root",
    );
  }
  return root;
}

const cifar10: DatasetDefinition<Cifar10OpenOptions, ClassificationDataset> = {
  name: "cifar10",
  task: "classification",
  format: "CIFAR binary (1 label byte + 3 072 bytes R,G,B planes), 32×32 RGB",
  source: CIFAR10_SOURCE,
  license:
    "No explicit license; cite Krizhevsky 2009 (Learning Multiple Layers of Features from Tiny Images)",
  splits: ["train", "test", "all"],
  open: async (options) =>
    openCifar10({
      root: requireRoot("cifar10", options.root, CIFAR10_SOURCE),
      ...(options.split === undefined ? {} : { split: options.split }),
      ...(options.verifyCounts === undefined ? {} : { verifyCounts: options.verifyCounts }),
      ...(options.limits === undefined ? {} : { limits: options.limits }),
    }),
};

const cifar100: DatasetDefinition<Cifar100OpenOptions, ClassificationDataset> = {
  name: "cifar100",
  task: "classification",
  format: "CIFAR binary (coarse + fine label bytes + 3 072 bytes R,G,B planes), 32×32 RGB",
  source: CIFAR100_SOURCE,
  license:
    "No explicit license; cite Krizhevsky 2009 (Learning Multiple Layers of Features from Tiny Images)",
  splits: ["train", "test", "all"],
  open: async (options) =>
    openCifar100({
      root: requireRoot("cifar100", options.root, CIFAR100_SOURCE),
      ...(options.split === undefined ? {} : { split: options.split }),
      ...(options.labels === undefined ? {} : { labels: options.labels }),
      ...(options.verifyCounts === undefined ? {} : { verifyCounts: options.verifyCounts }),
      ...(options.limits === undefined ? {} : { limits: options.limits }),
    }),
};

/** Options for Tiny-ImageNet-200 in {@link openDataset} (`split` may be `"val"`). */
export type TinyImageNetOpenOptions = OpenDatasetOptions;

const tinyImageNet: DatasetDefinition<TinyImageNetOpenOptions, TinyImageNetDataset> = {
  name: "tiny-imagenet",
  task: "classification",
  format: "folder of 64×64 JPEGs (wnids.txt, train/<wnid>/images, val/val_annotations.txt)",
  source: TINY_IMAGENET_SOURCE,
  license:
    "Images from ImageNet: non-commercial research and educational use only (ImageNet terms of access)",
  splits: ["train", "val", "test"],
  open: async (options) =>
    openTinyImageNet({
      root: requireRoot("tiny-imagenet", options.root, TINY_IMAGENET_SOURCE),
      ...(options.split === undefined ? {} : { split: options.split }),
      ...(options.verifyCounts === undefined ? {} : { verifyCounts: options.verifyCounts }),
      ...(options.limits === undefined ? {} : { limits: options.limits }),
    }),
};

/** Options for NYU Depth V2 in {@link openDataset}. */
export interface NyuDepthV2OpenOptions extends OpenDatasetOptions {
  /**
   * Which layout `root` holds: the labelled `nyu_depth_v2_labeled.mat` (`"labeled"`) or DenseDepth's
   * `nyu_data.zip` (`"densedepth"`). Default: detected from the files in `root`.
   */
  layout?: "labeled" | "densedepth";
  /** Labelled layout: train/test split indices or a split file (see {@link NyuDepthV2Options.splits}). */
  splits?: NyuDepthV2Options["splits"];
}

/** What `openDataset("nyu-depth-v2")` returns, depending on the layout. */
export type NyuDepthDataset = NyuDepthV2Dataset | DenseDepthNyuDataset;

function detectNyuLayout(root: string): "labeled" | "densedepth" {
  if (isFile(root)) return /\.zip$/i.test(root) ? "densedepth" : "labeled";
  if (isFile(join(root, "nyu_depth_v2_labeled.mat"))) return "labeled";
  if (isFile(join(root, "nyu_data.zip")) || isFile(join(root, "data", "nyu2_train.csv"))) return "densedepth";
  return "labeled";
}

const nyuDepthV2: DatasetDefinition<NyuDepthV2OpenOptions, NyuDepthDataset> = {
  name: "nyu-depth-v2",
  task: "depth",
  format:
    "MATLAB v7.3 .mat (HDF5 + 512-byte user block), 1 449 frames 480×640; or DenseDepth nyu_data.zip (CSV of JPEG/PNG pairs)",
  source: `${NYU_LABELED_SOURCE}. Or: ${DENSE_DEPTH_SOURCE}`,
  license:
    "No explicit license; cite Silberman et al., ECCV 2012 (Indoor Segmentation and Support Inference)",
  splits: ["train", "test", "all"],
  open: async (options) => {
    const root = requireRoot(
      "nyu-depth-v2",
      options.root,
      `${NYU_LABELED_SOURCE}. Or: ${DENSE_DEPTH_SOURCE}`,
    );
    const common = {
      root,
      ...(options.split === undefined ? {} : { split: options.split }),
      ...(options.verifyCounts === undefined ? {} : { verifyCounts: options.verifyCounts }),
      ...(options.limits === undefined ? {} : { limits: options.limits }),
    };
    if ((options.layout ?? detectNyuLayout(root)) === "densedepth") return openDenseDepthNyu(common);
    return openNyuDepthV2({ ...common, ...(options.splits === undefined ? {} : { splits: options.splits }) });
  },
};

/** Options for the synthetic classification suites in {@link openDataset} (`root` is ignored). */
export interface SyntheticOpenOptions extends OpenDatasetOptions, Omit<SyntheticDatasetOptions, "split"> {}

/** Options for `synthetic-segmentation` in {@link openDataset} (`root` is ignored). */
export interface SyntheticSegmentationOpenOptions
  extends OpenDatasetOptions,
    Omit<SyntheticSegmentationOptions, "split"> {}

/** Options for `synthetic-depth` in {@link openDataset} (`root` is ignored). */
export interface SyntheticDepthOpenOptions extends OpenDatasetOptions, Omit<SyntheticDepthOptions, "split"> {}

const SYNTHETIC_SOURCE = "Generated procedurally (no files needed).";

function syntheticDefinition(
  name: SyntheticSuiteName,
): DatasetDefinition<SyntheticOpenOptions, ClassificationDataset> {
  return {
    name,
    task: "classification",
    format: "procedural (shape × texture classes, domain-styled rendering), 32×32 RGB",
    source: SYNTHETIC_SOURCE,
    license: "Apache-2.0 (generated by this package)",
    splits: ["train", "test", "all"],
    open: async ({ root: _root, verifyCounts: _verify, limits: _limits, ...options }) =>
      openSyntheticDataset(name, options),
  };
}

const syntheticDepth: DatasetDefinition<SyntheticDepthOpenOptions, DepthDataset> = {
  name: "synthetic-depth",
  task: "depth",
  format: "procedural ray-cast rooms (planes, boxes, spheres), 48×64 RGB + exact depth 0.5–10 m",
  source: SYNTHETIC_SOURCE,
  license: "Apache-2.0 (generated by this package)",
  splits: ["train", "test", "all"],
  open: async ({ root: _root, verifyCounts: _verify, limits: _limits, ...options }) =>
    openSyntheticDepthDataset(options),
};

const syntheticSegmentation: DatasetDefinition<SyntheticSegmentationOpenOptions, SegmentationDataset> = {
  name: "synthetic-segmentation",
  task: "segmentation",
  format: "procedural shapes with exact per-pixel classes (background + 10 shapes), 32×32 RGB + class map",
  source: SYNTHETIC_SOURCE,
  license: "Apache-2.0 (generated by this package)",
  splits: ["train", "test", "all"],
  open: async ({ root: _root, verifyCounts: _verify, limits: _limits, ...options }) =>
    openSyntheticSegmentationDataset(options),
};

/** The built-in datasets, their option types and what they open to. */
export interface BuiltinDatasets {
  /** CIFAR-10 (binary version). */
  cifar10: { options: Cifar10OpenOptions; dataset: ClassificationDataset };
  /** CIFAR-100 (binary version). */
  cifar100: { options: Cifar100OpenOptions; dataset: ClassificationDataset };
  /** Tiny-ImageNet-200 (folder of JPEGs). */
  "tiny-imagenet": { options: TinyImageNetOpenOptions; dataset: TinyImageNetDataset };
  /** NYU Depth V2 labelled set (.mat). */
  "nyu-depth-v2": { options: NyuDepthV2OpenOptions; dataset: NyuDepthDataset };
  /** Fashion-MNIST (IDX). */
  "fashion-mnist": { options: IdxOpenOptions; dataset: ClassificationDataset };
  /** MNIST (IDX). */
  mnist: { options: IdxOpenOptions; dataset: ClassificationDataset };
  /** Broad procedural pretraining suite, 100 classes. */
  "synthetic-pretrain": { options: SyntheticOpenOptions; dataset: ClassificationDataset };
  /** Clean procedural source suite, 50 classes. */
  "synthetic-source": { options: SyntheticOpenOptions; dataset: ClassificationDataset };
  /** Shifted procedural target suite, the other 50 classes. */
  "synthetic-target": { options: SyntheticOpenOptions; dataset: ClassificationDataset };
  /** Procedural RGB + depth suite. */
  "synthetic-depth": { options: SyntheticDepthOpenOptions; dataset: DepthDataset };
  /** Procedural RGB + per-pixel class suite (background + the ten shapes). */
  "synthetic-segmentation": { options: SyntheticSegmentationOpenOptions; dataset: SegmentationDataset };
}

/** Names of the built-in datasets. */
export type BuiltinDatasetName = keyof BuiltinDatasets;

function entry<Options extends OpenDatasetOptions, Result extends Dataset>(
  definition: DatasetDefinition<Options, Result>,
): [string, DatasetDefinition] {
  return [definition.name, definition as unknown as DatasetDefinition];
}

// Built with its entries (no top-level calls), so importing this module changes nothing outside it.
const registry = new Map<string, DatasetDefinition>([
  entry(cifar10),
  entry(cifar100),
  entry(tinyImageNet),
  entry(nyuDepthV2),
  entry(fashionMnist),
  entry(mnist),
  entry(syntheticDefinition("synthetic-pretrain")),
  entry(syntheticDefinition("synthetic-source")),
  entry(syntheticDefinition("synthetic-target")),
  entry(syntheticDepth),
  entry(syntheticSegmentation),
]);

/**
 * Adds (or replaces) a dataset in the registry so {@link openDataset} and {@link getDataset} find it by name.
 */
export function registerDataset<Options extends OpenDatasetOptions, Result extends Dataset>(
  definition: DatasetDefinition<Options, Result>,
): void {
  if (typeof definition.name !== "string" || definition.name.length === 0) {
    throw datasetError(
      "INVALID_ARGUMENT",
      "registerDataset: definition.name must be a non-empty string",
      "name",
    );
  }
  registry.set(...entry(definition));
}

/** Names of every registered dataset, built-in ones first. */
export function listDatasets(): string[] {
  return [...registry.keys()];
}

/**
 * Looks a dataset up in the registry.
 *
 * @throws KoraError `UNKNOWN_DATASET` naming the registered names.
 */
export function getDataset<Name extends BuiltinDatasetName>(
  name: Name,
): DatasetDefinition<BuiltinDatasets[Name]["options"], BuiltinDatasets[Name]["dataset"]>;
/** {@link getDataset} for a registered (non built-in) name. */
export function getDataset(name: string): DatasetDefinition;
export function getDataset(name: string): DatasetDefinition {
  const definition = registry.get(name);
  if (definition === undefined) {
    throw datasetError(
      "UNKNOWN_DATASET",
      `unknown dataset ${JSON.stringify(name)}; registered: ${listDatasets().join(", ")}`,
      "name",
    );
  }
  return definition;
}

/**
 * Opens a split of a dataset by registry name and returns a random-access dataset
 * (`size`, `classes`, `get(i)`). The promise rejects with a `KoraError` whose message says what is missing and
 * where to get it.
 *
 * @example
 * ```ts
 * const train = await openDataset("cifar100", { root: "/data/cifar-100-binary", split: "train" });
 * const { image, label } = train.get(0);
 * ```
 */
export function openDataset<Name extends BuiltinDatasetName>(
  name: Name,
  options?: BuiltinDatasets[Name]["options"],
): Promise<BuiltinDatasets[Name]["dataset"]>;
/** {@link openDataset} for a registered (non built-in) name. */
export function openDataset(name: string, options?: OpenDatasetOptions): Promise<Dataset>;
export async function openDataset(name: string, options: OpenDatasetOptions = {}): Promise<Dataset> {
  const definition = getDataset(name);
  const split = options.split ?? "train";
  if (!definition.splits.includes(split)) {
    throw datasetError(
      "INVALID_ARGUMENT",
      `${name}: split must be one of ${definition.splits.join(", ")}, got ${JSON.stringify(split)}`,
      "split",
    );
  }
  return definition.open({ ...options, split });
}
