import type { ViTConfig } from "./vit-config";

/** Names of the built-in {@link ViTConfig} presets (see {@link VIT_PRESETS}). */
export type ViTPresetName =
  | "vit-micro"
  | "vit-tiny"
  | "vit-small"
  | "vit-base"
  | "vit-micro-28"
  | "vit-mini-28"
  | "vit-tiny-32"
  | "vit-tiny-28"
  | "vit-small-32";

const RGB_HALF = { channels: 3, imageMean: [0.5, 0.5, 0.5], imageStd: [0.5, 0.5, 0.5] };
const GRAY_HALF = { channels: 1, imageMean: [0.5], imageStd: [0.5] };

/**
 * Built-in configurations. `vit-tiny`/`vit-small`/`vit-base` are the patch16-224 shapes of DeiT/timm/Hugging Face
 * with a 1000-class head; `vit-micro` is the shape of the repository's golden test fixture
 * (`fixtures/vit/vit-micro-hf.*`); `vit-mini-28` (12 blocks, D=64, 0.6 M parameters) is the shape of the backbone
 * the reproduction pretrains and ships; the `-32` and `-28` variants take 32×32 RGB
 * (CIFAR) and 28×28 grayscale (Fashion-MNIST) images with 10 classes. All use Hugging Face's LayerNorm epsilon
 * `1e-12` and mean/std 0.5; override any field in {@link createViT}.
 */
export const VIT_PRESETS: Readonly<Record<ViTPresetName, Readonly<ViTConfig>>> = {
  "vit-micro": {
    ...RGB_HALF,
    imageSize: 32,
    patchSize: 8,
    dim: 48,
    depth: 3,
    heads: 3,
    mlpDim: 192,
    numClasses: 10,
    layerNormEps: 1e-12,
  },
  "vit-tiny": {
    ...RGB_HALF,
    imageSize: 224,
    patchSize: 16,
    dim: 192,
    depth: 12,
    heads: 3,
    mlpDim: 768,
    numClasses: 1000,
    layerNormEps: 1e-12,
  },
  "vit-small": {
    ...RGB_HALF,
    imageSize: 224,
    patchSize: 16,
    dim: 384,
    depth: 12,
    heads: 6,
    mlpDim: 1536,
    numClasses: 1000,
    layerNormEps: 1e-12,
  },
  "vit-base": {
    ...RGB_HALF,
    imageSize: 224,
    patchSize: 16,
    dim: 768,
    depth: 12,
    heads: 12,
    mlpDim: 3072,
    numClasses: 1000,
    layerNormEps: 1e-12,
  },
  "vit-micro-28": {
    ...GRAY_HALF,
    imageSize: 28,
    patchSize: 7,
    dim: 48,
    depth: 3,
    heads: 3,
    mlpDim: 192,
    numClasses: 10,
    layerNormEps: 1e-12,
  },
  "vit-mini-28": {
    ...GRAY_HALF,
    imageSize: 28,
    patchSize: 7,
    dim: 64,
    depth: 12,
    heads: 4,
    mlpDim: 256,
    numClasses: 10,
    layerNormEps: 1e-12,
  },
  "vit-tiny-32": {
    ...RGB_HALF,
    imageSize: 32,
    patchSize: 4,
    dim: 192,
    depth: 12,
    heads: 3,
    mlpDim: 768,
    numClasses: 10,
    layerNormEps: 1e-12,
  },
  "vit-tiny-28": {
    ...GRAY_HALF,
    imageSize: 28,
    patchSize: 4,
    dim: 192,
    depth: 12,
    heads: 3,
    mlpDim: 768,
    numClasses: 10,
    layerNormEps: 1e-12,
  },
  "vit-small-32": {
    ...RGB_HALF,
    imageSize: 32,
    patchSize: 4,
    dim: 384,
    depth: 12,
    heads: 6,
    mlpDim: 1536,
    numClasses: 10,
    layerNormEps: 1e-12,
  },
};
