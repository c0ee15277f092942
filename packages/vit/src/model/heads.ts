import { linear } from "@kora/tfjs";
import * as tf from "@tensorflow/tfjs";
import type { NamedParameter, ParameterInitializer } from "./parameters";

/**
 * A head on the backbone's final (LayerNorm-ed) token sequence `[B, 1 + N, D]` (CLS first). Replace a model's
 * head with {@link ViT.setHead}; the backbone is not touched.
 */
export interface ViTHead {
  /** `"classification"` (logits `[B, K]`) or `"depth"` (a map `[B, H, W, outChannels]`). */
  readonly kind: "classification" | "depth";
  /** The head's variables. */
  variables(): tf.Variable[];
  /** The head's variables with their checkpoint names (what {@link encodeViT} writes). */
  namedParameters(): NamedParameter[];
  /** Runs the head on the final token sequence `[B, 1 + N, D]`. */
  apply(sequence: tf.Tensor3D, training: boolean): tf.Tensor;
  /** Disposes the head's variables. */
  dispose(): void;
}

/** Options of the head constructors. */
export interface HeadOptions {
  /** Seed of the random initialisation (kernel N(0, 0.02) truncated at 2σ, bias 0). Default 0. */
  seed?: number;
  /** Initial values instead of random ones (used by the loader). */
  initializer?: ParameterInitializer;
  /** Whether the head's variables are trainable. Default true. */
  trainable?: boolean;
}

function randomInitializer(seed: number): ParameterInitializer {
  let counter = 0;
  return (name, shape) =>
    name.endsWith(".bias")
      ? tf.zeros(shape)
      : tf.truncatedNormal(shape, 0, 0.02, "float32", seed + 1 + counter++); // tfjs ignores a seed of 0
}

/** @internal Creates a variable from an initializer and disposes the initial value. */
export function makeVariable(
  initializer: ParameterInitializer,
  name: string,
  shape: number[],
  trainable: boolean,
  layout: NamedParameter["layout"],
): tf.Variable {
  const value = initializer(name, shape, layout);
  const variable = tf.variable(value, trainable);
  value.dispose();
  return variable;
}

/** The classification head of Hugging Face `ViTForImageClassification`: a linear layer on the CLS token. */
export class ClassificationHead implements ViTHead {
  /** Always `"classification"`. */
  readonly kind = "classification" as const;
  /** Kernel `[D, K]`. */
  readonly kernel: tf.Variable;
  /** Bias `[K]`. */
  readonly bias: tf.Variable;

  /**
   * @param dim Hidden size D of the backbone.
   * @param numClasses Number of classes K (≥ 1).
   */
  constructor(
    readonly dim: number,
    readonly numClasses: number,
    options: HeadOptions = {},
  ) {
    const init = options.initializer ?? randomInitializer(options.seed ?? 0);
    const trainable = options.trainable ?? true;
    this.kernel = makeVariable(init, "classifier.weight", [dim, numClasses], trainable, "linear");
    this.bias = makeVariable(init, "classifier.bias", [numClasses], trainable, "plain");
  }

  /** Kernel and bias. */
  variables(): tf.Variable[] {
    return [this.kernel, this.bias];
  }

  /** `classifier.weight` / `classifier.bias` (Hugging Face names). */
  namedParameters(): NamedParameter[] {
    return [
      { name: "classifier.weight", variable: this.kernel, layout: "linear" },
      { name: "classifier.bias", variable: this.bias, layout: "plain" },
    ];
  }

  /** Logits `[B, K]` from the CLS token (slice, no gather, so it trains on wasm). */
  apply(sequence: tf.Tensor3D): tf.Tensor2D {
    return tf.tidy(() => {
      const [batch, , dim] = sequence.shape;
      const cls = tf.reshape(tf.slice(sequence, [0, 0, 0], [batch, 1, dim]), [batch, dim]) as tf.Tensor2D;
      return linear(cls, this.kernel as tf.Tensor as tf.Tensor2D, this.bias as tf.Tensor as tf.Tensor1D);
    });
  }

  /** Disposes kernel and bias. */
  dispose(): void {
    this.kernel.dispose();
    this.bias.dispose();
  }
}

/** Shape of a {@link DepthHead}. */
export interface DepthHeadConfig {
  /** Hidden size D of the backbone. */
  dim: number;
  /** Patch side P of the backbone. */
  patchSize: number;
  /** Image side of the backbone (a multiple of `patchSize`). */
  imageSize: number;
  /** Channels of the predicted map (1 for depth). Default 1. */
  outChannels?: number;
}

/**
 * A dense prediction head: each patch token (CLS dropped) goes through one linear layer to `P·P·outChannels`
 * values, which are laid out as that patch's pixels, giving a full-resolution map `[B, H, W, outChannels]`
 * (NHWC). Only reshapes, a rank-4 transpose and a matmul: trainable on wasm, no transposed convolutions. The map
 * is unconstrained (apply e.g. `softplus` or a log-depth loss as the task needs).
 * Saved as `depth_head.projection.weight` `[P·P·outChannels, D]` / `.bias`.
 */
export class DepthHead implements ViTHead {
  /** Always `"depth"`. */
  readonly kind = "depth" as const;
  /** Kernel `[D, P·P·outChannels]` (outputs ordered patch-row, patch-column, channel). */
  readonly kernel: tf.Variable;
  /** Bias `[P·P·outChannels]`. */
  readonly bias: tf.Variable;
  /** Channels of the predicted map. */
  readonly outChannels: number;

  /**
   * @param config Shape of the head (must match the backbone it is set on).
   */
  constructor(
    readonly config: DepthHeadConfig,
    options: HeadOptions = {},
  ) {
    this.outChannels = config.outChannels ?? 1;
    const init = options.initializer ?? randomInitializer(options.seed ?? 0);
    const trainable = options.trainable ?? true;
    const width = config.patchSize * config.patchSize * this.outChannels;
    this.kernel = makeVariable(
      init,
      "depth_head.projection.weight",
      [config.dim, width],
      trainable,
      "linear",
    );
    this.bias = makeVariable(init, "depth_head.projection.bias", [width], trainable, "plain");
  }

  /** Kernel and bias. */
  variables(): tf.Variable[] {
    return [this.kernel, this.bias];
  }

  /** `depth_head.projection.weight` / `.bias`. */
  namedParameters(): NamedParameter[] {
    return [
      { name: "depth_head.projection.weight", variable: this.kernel, layout: "linear" },
      { name: "depth_head.projection.bias", variable: this.bias, layout: "plain" },
    ];
  }

  /** The map `[B, H, W, outChannels]` from the patch tokens of `sequence` `[B, 1 + N, D]`. */
  apply(sequence: tf.Tensor3D): tf.Tensor4D {
    return tf.tidy(() => {
      const [batch, tokens, dim] = sequence.shape;
      const { patchSize: p, imageSize } = this.config;
      const grid = imageSize / p;
      const patches = tf.reshape(tf.slice(sequence, [0, 1, 0], [batch, tokens - 1, dim]), [
        batch * (tokens - 1),
        dim,
      ]) as tf.Tensor2D;
      const pixels = linear(
        patches,
        this.kernel as tf.Tensor as tf.Tensor2D,
        this.bias as tf.Tensor as tf.Tensor1D,
      );
      // [B·gh, gw, P(row), P·C] → [B·gh, P(row), gw, P·C] → [B, gh·P, gw·P, C]
      const rows = tf.transpose(
        tf.reshape(pixels, [batch * grid, grid, p, p * this.outChannels]),
        [0, 2, 1, 3],
      );
      return tf.reshape(rows, [batch, imageSize, imageSize, this.outChannels]) as tf.Tensor4D;
    });
  }

  /** Disposes kernel and bias. */
  dispose(): void {
    this.kernel.dispose();
    this.bias.dispose();
  }
}
