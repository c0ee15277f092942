import { linear } from "@kora/tfjs";
import type { NamedParameter, ViTHead } from "@kora/vit";
import * as tf from "@tensorflow/tfjs";

/** Shape of a {@link SegmentationHead}. */
export interface SegmentationHeadConfig {
  /** Hidden size D of the backbone. */
  dim: number;
  /** Patch side P of the backbone. */
  patchSize: number;
  /** Image side of the backbone (a multiple of `patchSize`). */
  imageSize: number;
  /** Classes K (background included). */
  classes: number;
}

/**
 * The 1-D bilinear interpolation matrix `[out, size]` with half-pixel centres and clamped edges — PyTorch's
 * `interpolate(mode="bilinear", align_corners=False)` and `@kora/datasets`' `resizeBilinear`, so patch `j`'s logits
 * sit at the centre of its pixels.
 */
export function bilinearMatrix(size: number, out: number): Float32Array {
  const matrix = new Float32Array(out * size);
  const scale = size / out;
  for (let i = 0; i < out; i++) {
    const source = Math.max(0, (i + 0.5) * scale - 0.5);
    const lo = Math.min(Math.floor(source), size - 1);
    const hi = Math.min(lo + 1, size - 1);
    const weight = source - lo;
    matrix[i * size + lo]! += 1 - weight;
    matrix[i * size + hi]! += weight;
  }
  return matrix;
}

/**
 * A semantic segmentation head on the patch tokens: one linear layer maps each patch token (CLS dropped) to K class
 * logits, a `g × g` grid (g = image side / patch side), which is upsampled bilinearly to every pixel, giving
 * logits `[B, H, W, K]`. Kept this simple on purpose (Segmenter's and SETR's "linear" decoder): the head has only
 * `D·K + K` parameters, so what a run learns about segmentation is in the adapted backbone, not in a decoder. The
 * upsampling is two products with fixed interpolation matrices (rows, then columns), so it trains on every tfjs
 * backend (wasm's resize gradient knows no half-pixel centres).
 *
 * Its `kind` is `"depth"`, `@kora/vit`'s kind for heads that return a map `[B, H, W, channels]`: the ViT returns
 * the logits as `output.depth`. The segmentation task tells it apart from a depth head by its class.
 * Saved as `segmentation_head.projection.weight` `[K, D]` / `.bias`.
 */
export class SegmentationHead implements ViTHead {
  /** `@kora/vit`'s kind for a head that returns a pixel map. */
  readonly kind = "depth" as const;
  /** Kernel `[D, K]`. */
  readonly kernel: tf.Variable;
  /** Bias `[K]`. */
  readonly bias: tf.Variable;
  /** Classes K. */
  readonly classes: number;
  private readonly upsample: tf.Tensor2D;

  /**
   * @param config Shape of the head (must match the backbone it is set on).
   * @param seed Seed of the kernel's initialisation: N(0, 0.02) truncated at 2σ, as `@kora/vit`'s heads; bias 0.
   */
  constructor(
    readonly config: SegmentationHeadConfig,
    seed = 0,
  ) {
    this.classes = config.classes;
    // tf.variable copies its initial value: the initial tensors are freed at once (tidy keeps no variables).
    const [kernel, bias] = tf.tidy(() => [
      tf.variable(tf.truncatedNormal([config.dim, config.classes], 0, 0.02, "float32", seed + 1)),
      tf.variable(tf.zeros([config.classes])),
    ]);
    this.kernel = kernel!;
    this.bias = bias!;
    const grid = config.imageSize / config.patchSize;
    this.upsample = tf.tensor2d(bilinearMatrix(grid, config.imageSize), [config.imageSize, grid]);
  }

  /** Kernel and bias. */
  variables(): tf.Variable[] {
    return [this.kernel, this.bias];
  }

  /** `segmentation_head.projection.weight` / `.bias`. */
  namedParameters(): NamedParameter[] {
    return [
      { name: "segmentation_head.projection.weight", variable: this.kernel, layout: "linear" },
      { name: "segmentation_head.projection.bias", variable: this.bias, layout: "plain" },
    ];
  }

  /** Per-pixel class logits `[B, H, W, K]` from the patch tokens of `sequence` `[B, 1 + N, D]`. */
  apply(sequence: tf.Tensor3D): tf.Tensor4D {
    return tf.tidy(() => {
      const [batch, tokens, dim] = sequence.shape;
      const { imageSize: size, classes } = this.config;
      const grid = size / this.config.patchSize;
      const patches = tf.reshape(tf.slice(sequence, [0, 1, 0], [batch, tokens - 1, dim]), [
        batch * (tokens - 1),
        dim,
      ]) as tf.Tensor2D;
      const logits = linear(
        patches,
        this.kernel as tf.Tensor as tf.Tensor2D,
        this.bias as tf.Tensor as tf.Tensor1D,
      );
      // [B, gy, gx, K] → rows: [gy, B·gx·K] → U·_ = [H, B, gx, K] → columns: [gx, B·H·K] → U·_ = [W, B, H, K].
      const byRow = tf.reshape(tf.transpose(tf.reshape(logits, [batch, grid, grid, classes]), [1, 0, 2, 3]), [
        grid,
        batch * grid * classes,
      ]);
      const rows = tf.reshape(tf.matMul(this.upsample, byRow), [size, batch, grid, classes]);
      const byColumn = tf.reshape(tf.transpose(rows, [2, 1, 0, 3]), [grid, batch * size * classes]);
      const pixels = tf.reshape(tf.matMul(this.upsample, byColumn), [size, batch, size, classes]);
      return tf.transpose(pixels, [1, 2, 0, 3]) as tf.Tensor4D;
    });
  }

  /** Disposes kernel, bias and the interpolation matrix. */
  dispose(): void {
    this.kernel.dispose();
    this.bias.dispose();
    this.upsample.dispose();
  }
}
