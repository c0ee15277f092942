import { existsSync } from "node:fs";
import { join } from "node:path";
import type { ImageShift } from "@kora/datasets";
import { FASHION_MNIST_DEFAULT_ROOT } from "@kora/datasets/node";
import { KoraError } from "@kora/spec";
import type { ViTConfigInput } from "@kora/vit";
import { appRoot } from "../paths";

/**
 * The presets `--preset` accepts. `extended` is `default` plus the experiments marked `extended` (the d_comp, rank,
 * apply and composition ablations) on the same data and backbone.
 */
export const PRESET_NAMES = ["smoke", "default", "extended", "paper"] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/** Where the backbone comes from. */
export type BackboneSource =
  | {
      /** Pretrained by the harness on a synthetic suite, cached by config hash. */
      kind: "pretrain";
      dataset: "synthetic-pretrain";
      /** Items of the pretraining split that are rendered (its train size). */
      trainSize: number;
      steps: number;
      batchSize: number;
      learningRate: number;
      /**
       * What the pretraining head predicts: the 100 shape×texture classes (default) or the 10 shapes
       * (`floor(class / 10)`; the model's `numClasses` must then be 10).
       */
      labels?: "class" | "shape";
      /**
       * Re-initialise every weight matrix before pretraining: `"lecun"` draws N(0, 1/fan_in) truncated at 2σ
       * instead of the Hugging Face N(0, 0.02) (`"hf"`, the default). Biases, LayerNorms and embeddings keep theirs.
       */
      init?: "hf" | "lecun";
    }
  | {
      /** Loaded from a safetensors checkpoint on disk (`--weights`, or the backbone shipped with the app). */
      kind: "weights";
      path: string;
      /** SHA-256 of `model.safetensors`, checked before every use (the shipped backbone's). */
      sha256?: string;
    };

/** A classification dataset and where it lives. */
export interface ClassificationData {
  /** Registry name of `@kora/datasets`. */
  dataset: "fashion-mnist" | "synthetic-source" | "synthetic-target" | "cifar100" | "tiny-imagenet";
  /** Folder of a file dataset (undefined for the synthetic suites). */
  root?: string;
  /** Split used for evaluation (`test`, or `val` for Tiny-ImageNet). */
  evalSplit: "test" | "val";
  /** Synthetic suites: size of the train split to generate. File datasets: ignored. */
  trainSize?: number;
  /** Synthetic suites: size of the test split to generate. */
  testSize?: number;
  /** Evaluate on a fixed class-stratified subset of this many items (null: the whole evaluation split). */
  evalSize: number | null;
  /**
   * Keep only these classes of the dataset, relabelled `0 … k−1` in this order: two disjoint lists make a source
   * and a target task on one image domain with no class in common.
   */
  classes?: number[];
  /** A fixed change of image domain applied to every image of the task, training and evaluation alike. */
  shift?: ImageShift;
  /**
   * Items `[start, end)` of the train split the task may draw its training items from (the rest was used to
   * pretrain the backbone and must stay unseen). Default: the whole split.
   */
  pool?: [number, number];
}

/** Everything a preset fixes: data, model, steps, seeds. */
export interface Preset {
  name: PresetName;
  /** One line for the report. */
  description: string;
  /** Seeds run by default (`--seeds` overrides). */
  seeds: number;
  /** The backbone's shape (the pretraining head has `numClasses` outputs). */
  model: ViTConfigInput;
  backbone: BackboneSource;
  /** Images per batch everywhere (≤ 32: the wasm heap aborts at large batches). */
  batchSize: number;
  /** 4.1: the source task. */
  source: ClassificationData & {
    /** Training length: optimizer steps, or epochs over `trainItems`. */
    steps?: number;
    epochs?: number;
    /** Use this many training items (a class-stratified choice drawn again for every seed), or null for all. */
    trainItems: number | null;
    learningRate: number;
    /** Full fine-tuning learning rate (smaller: every weight moves). */
    fullLearningRate: number;
    /**
     * Full fine-tuning's rate for the new head (default `fullLearningRate`): the rate the head alone and the
     * adapters train their head with, so full fine-tuning is not compared with a half-trained head.
     */
    fullHeadLearningRate?: number;
  };
  /**
   * 4.2: the transfer task: a class-stratified subset of `fraction` of the pool (or exactly `count` items), drawn
   * again for every seed, trained for `epochs` passes; evaluated on the evaluation split.
   */
  target: ClassificationData & {
    fraction: number;
    count?: number;
    epochs: number;
    learningRate: number;
    /** Full fine-tuning's rate for the new head on the target (default: the source's `fullLearningRate`). */
    fullHeadLearningRate?: number;
  };
  /** 4.4: the dense task. */
  depth: {
    dataset: "synthetic-depth" | "nyu-depth-v2";
    root?: string;
    trainSize?: number;
    testSize?: number;
    fraction: number;
    epochs: number;
    /** Optimizer steps, when the run should stop before `epochs` passes (default: `epochs` passes). */
    steps?: number;
    evalSize: number | null;
    learningRate: number;
    /** Valid depth range in metres. */
    range: [number, number];
  };
  /**
   * 4.5: the segmentation task. Synthetic in every preset: no segmentation dataset is on this machine (and the paper
   * reports no segmentation table to compare with).
   */
  segmentation: {
    dataset: "synthetic-segmentation";
    /** Items of the generated train / test splits. */
    trainSize: number;
    testSize: number;
    /** Image side the suite is rendered at (the backbone's, so neither image nor class map is resized). */
    imageSize?: number;
    /** Training items: a fixed seeded choice from the train split, the same for every seed and method. */
    trainItems: number;
    epochs: number;
    /** Optimizer steps, when the run should stop before `epochs` passes. */
    steps?: number;
    /** Evaluate on a fixed seeded choice of this many test items (null: all). */
    evalSize: number | null;
    learningRate: number;
  };
  /** CKA (4.1 CKA sim. and 4.3): examples of the source evaluation split used. */
  ckaExamples: number;
  /** A warning for the report when the preset silently fell back (e.g. no Fashion-MNIST). */
  notes: string[];
  /**
   * wasm threads (`selectBackend`'s `threads`; `KORA_WASM_THREADS` overrides). Measured on the default's 12-block
   * D=64 model, 2 cores, batch 32: LoRA 200 → 213 img/s, full fine-tuning 132 → 154 img/s from 1 to 2 threads.
   */
  threads?: number;
  /**
   * Worker processes that share the plan (`--jobs` overrides), each with one wasm thread: two processes on two
   * cores train about 1.9× the images of one process with two threads (400 vs 213 img/s for LoRA, measured).
   */
  jobs?: number;
}

/** Options that shape a preset: file locations for `paper`, data availability for `default`. */
export interface PresetOptions {
  /** `--data-root`: folder holding cifar-100-binary/, tiny-imagenet-200/, nyu/ (paper preset). */
  dataRoot?: string;
  /** `--weights`: a ViT-B/16 safetensors file or checkpoint folder (paper preset). */
  weights?: string;
  /** Where Fashion-MNIST lives (default preset); default /usr/share/datasets/fashion-mnist. */
  fashionMnistRoot?: string;
  /**
   * `false` (`--dry-run`): the paper preset lists missing files as notes instead of throwing, so its plan and cost
   * can be shown before the data is downloaded. Default `true`.
   */
  checkFiles?: boolean;
}

function hasFashionMnist(root: string): boolean {
  return ["train-images-idx3-ubyte", "t10k-images-idx3-ubyte"].every(
    (name) => existsSync(join(root, name)) || existsSync(join(root, `${name}.gz`)),
  );
}

/** The smoke preset: a few steps of everything on a tiny model and tiny synthetic data (CI, well under 2 min). */
function smoke(): Preset {
  // The same shape of task as the default (a class split of one dataset under a domain shift, drawn from a pool),
  // so every code path runs, on generated data.
  const shared = {
    dataset: "synthetic-source" as const,
    evalSplit: "test" as const,
    trainSize: 400,
    testSize: 100,
    shift: { kinds: ["clutter"] as ["clutter"], seed: 0 },
    pool: [100, 400] as [number, number],
  };
  return {
    name: "smoke",
    description:
      "a few steps of every experiment: 2-block 16×16 ViT, tiny synthetic data (CI check, not a result)",
    seeds: 2,
    model: {
      imageSize: 16,
      patchSize: 4,
      channels: 3,
      dim: 24,
      depth: 2,
      heads: 2,
      mlpDim: 48,
      numClasses: 100,
    },
    backbone: {
      kind: "pretrain",
      dataset: "synthetic-pretrain",
      trainSize: 400,
      steps: 4,
      batchSize: 16,
      learningRate: 1e-3,
    },
    batchSize: 16,
    source: {
      ...shared,
      classes: [0, 1, 2, 3, 4],
      evalSize: 48,
      steps: 3,
      trainItems: 40,
      learningRate: 3e-3,
      fullLearningRate: 1e-3,
      fullHeadLearningRate: 3e-3,
    },
    target: {
      ...shared,
      classes: [5, 6, 7, 8, 9],
      evalSize: null,
      fraction: 0.01,
      count: 20,
      epochs: 1,
      learningRate: 3e-3,
      fullHeadLearningRate: 3e-3,
    },
    depth: {
      dataset: "synthetic-depth",
      trainSize: 1600,
      testSize: 8,
      fraction: 0.01,
      epochs: 1,
      evalSize: null,
      learningRate: 3e-3,
      range: [0.5, 10],
    },
    segmentation: {
      dataset: "synthetic-segmentation",
      trainSize: 32,
      testSize: 16,
      imageSize: 16,
      trainItems: 16,
      epochs: 1,
      evalSize: null,
      learningRate: 3e-3,
    },
    ckaExamples: 48,
    notes: [],
  };
}

/** Where the backbone shipped with the app lives, and the SHA-256 of its weights (see its MODEL_CARD.md). */
export const SHIPPED_BACKBONE = {
  folder: "backbones/vit-mini-28-fmnist",
  sha256: "2c8517f23e8d62c2d1b66645858c0215ef453d30f59bfef854b2091599d372c6",
} as const;

/** The default's source classes: the five upper-body garments (T-shirt, pullover, dress, coat, shirt). */
export const DEFAULT_SOURCE_CLASSES = [0, 2, 3, 4, 6];
/** The default's target classes: the other five (trouser, sandal, sneaker, bag, ankle boot). */
export const DEFAULT_TARGET_CLASSES = [1, 5, 7, 8, 9];

/**
 * The domain shift shared by the default's source and target tasks: every image moved by a seeded offset of up to
 * one pixel each way (the backbone was pretrained on centred images only). Why this one, and what else was tried,
 * is in docs/reproduction.md.
 */
export const DEFAULT_SHIFT: ImageShift = { kinds: ["translate"], seed: 0, strength: 0.15 };

/**
 * Train items the default's tasks draw from: never seen in pretraining (items 0–49 999), and short of 58 000–59 999,
 * the validation slice that design choices are scored on (`scripts/design-probe.mjs`: the full fine-tuning
 * recipe, the backbone search in docs/reproduction.md), which no run of the harness scores.
 */
export const DEFAULT_POOL: [number, number] = [50_000, 58_000];

/**
 * The default: the 12-block backbone shipped with the app (pretrained here with `kora pretrain` on items 0–49 999
 * of Fashion-MNIST's train split, clean images), a source task and a target task on the held-out items
 * 50 000–57 999 in a shifted domain the backbone never saw, with no class in common; ≤ 10 minutes on 2 cores.
 */
function defaultPreset(options: PresetOptions): Preset {
  const fashionRoot = options.fashionMnistRoot ?? FASHION_MNIST_DEFAULT_ROOT;
  if (!hasFashionMnist(fashionRoot)) {
    throw new KoraError({
      code: "DATASET_NOT_FOUND",
      message: `the default preset needs Fashion-MNIST at ${fashionRoot} (its backbone was pretrained on it): install Debian's dataset-fashion-mnist, or put the four IDX files there`,
    });
  }
  const shared = {
    dataset: "fashion-mnist" as const,
    root: fashionRoot,
    evalSplit: "test" as const,
    evalSize: 500,
    shift: DEFAULT_SHIFT,
    pool: DEFAULT_POOL,
  };
  return {
    name: "default",
    description:
      "vit-mini-28 (12 blocks, D=64) shipped with the app, pretrained on clean Fashion-MNIST items 0–49 999; " +
      "source: the 5 upper-body classes, target: the other 5, both on held-out items 50 000–57 999 moved by up " +
      "to 1 pixel (a shift the backbone never saw); depth synthetic-depth",
    seeds: 3,
    model: { preset: "vit-mini-28" },
    backbone: {
      kind: "weights",
      path: join(appRoot(), SHIPPED_BACKBONE.folder),
      sha256: SHIPPED_BACKBONE.sha256,
    },
    batchSize: 32,
    source: {
      ...shared,
      classes: DEFAULT_SOURCE_CLASSES,
      steps: 60,
      trainItems: 1920,
      learningRate: 5e-3,
      fullLearningRate: 2e-4,
      fullHeadLearningRate: 5e-3,
    },
    target: {
      ...shared,
      classes: DEFAULT_TARGET_CLASSES,
      fraction: 0.2,
      count: 1000,
      epochs: 1,
      learningRate: 5e-3,
      fullHeadLearningRate: 5e-3,
    },
    depth: {
      dataset: "synthetic-depth",
      trainSize: 5000,
      testSize: 200,
      fraction: 0.01,
      epochs: 8,
      evalSize: null,
      learningRate: 5e-3,
      range: [0.5, 10],
    },
    segmentation: {
      dataset: "synthetic-segmentation",
      trainSize: 2000,
      testSize: 200,
      imageSize: 28,
      trainItems: 256,
      epochs: 8,
      evalSize: 128,
      learningRate: 2e-2,
    },
    ckaExamples: 256,
    notes: [],
    threads: 2,
    jobs: 2,
  };
}

/** The paper's setting: CIFAR-100 → Tiny-ImageNet, NYU Depth V2, ViT-B/16 weights from disk. */
function paper(options: PresetOptions): Preset {
  const root = options.dataRoot;
  const missing: string[] = [];
  if (root === undefined)
    missing.push("--data-root DIR (holding cifar-100-binary/, tiny-imagenet-200/, nyu/)");
  if (options.weights === undefined)
    missing.push("--weights PATH (ViT-B/16 safetensors, e.g. google/vit-base-patch16-224)");
  const cifar = root === undefined ? "" : join(root, "cifar-100-binary");
  const tiny = root === undefined ? "" : join(root, "tiny-imagenet-200");
  const nyu = root === undefined ? "" : join(root, "nyu");
  if (root !== undefined) {
    for (const file of ["train.bin", "test.bin"]) {
      if (!existsSync(join(cifar, file))) missing.push(`${join(cifar, file)} (CIFAR-100 binary version)`);
    }
    for (const file of ["wnids.txt", "train", "val/val_annotations.txt"]) {
      if (!existsSync(join(tiny, file)))
        missing.push(`${join(tiny, file)} (tiny-imagenet-200.zip, unzipped)`);
    }
    if (!existsSync(join(nyu, "nyu_depth_v2_labeled.mat")) && !existsSync(join(nyu, "nyu_data.zip"))) {
      missing.push(
        `${join(nyu, "nyu_depth_v2_labeled.mat")} + splits.mat, or ${join(nyu, "nyu_data.zip")} (NYU Depth V2)`,
      );
    }
  }
  if (options.weights !== undefined && !existsSync(options.weights))
    missing.push(`${options.weights} (--weights)`);
  if (missing.length > 0 && options.checkFiles !== false) {
    throw new KoraError({
      code: "DATASET_NOT_FOUND",
      message: `the paper preset needs files that are not there:\n  - ${missing.join("\n  - ")}`,
    });
  }
  return {
    name: "paper",
    description:
      "ViT-B/16 (weights from disk), CIFAR-100 → Tiny-ImageNet (1 %, 1 epoch), NYU Depth V2 (1 %), as the paper",
    seeds: 3,
    model: { preset: "vit-base", numClasses: 100 },
    backbone: { kind: "weights", path: options.weights as string },
    batchSize: 32,
    source: {
      dataset: "cifar100",
      root: cifar,
      evalSplit: "test",
      evalSize: null,
      epochs: 5,
      trainItems: null,
      learningRate: 1e-3,
      fullLearningRate: 5e-5,
      fullHeadLearningRate: 1e-3,
    },
    target: {
      dataset: "tiny-imagenet",
      root: tiny,
      evalSplit: "val",
      evalSize: null,
      fraction: 0.01,
      epochs: 1,
      learningRate: 1e-3,
      fullHeadLearningRate: 1e-3,
    },
    depth: {
      dataset: "nyu-depth-v2",
      root: nyu,
      fraction: 0.01,
      epochs: 5,
      evalSize: null,
      learningRate: 1e-3,
      range: [1e-3, 10],
    },
    segmentation: {
      dataset: "synthetic-segmentation",
      trainSize: 2000,
      testSize: 400,
      imageSize: 224,
      trainItems: 200,
      epochs: 5,
      evalSize: null,
      learningRate: 1e-3,
    },
    ckaExamples: 1000,
    notes: missing.map((file) => `missing: ${file}`),
  };
}

/** Resolves a preset by name; `paper` throws `DATASET_NOT_FOUND` listing every missing file. */
export function resolvePreset(name: PresetName, options: PresetOptions = {}): Preset {
  switch (name) {
    case "smoke":
      return smoke();
    case "default":
      return defaultPreset(options);
    case "extended":
      return {
        ...defaultPreset(options),
        name: "extended",
        description: `${defaultPreset(options).description}; with the extended ablations`,
      };
    case "paper":
      return paper(options);
    default:
      throw new KoraError({
        code: "INVALID_ARGUMENT",
        message: `--preset must be one of ${PRESET_NAMES.join(", ")}, got "${String(name)}"`,
      });
  }
}
