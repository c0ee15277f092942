import type * as tf from "@tensorflow/tfjs";

/**
 * How a parameter is laid out in tfjs versus a PyTorch checkpoint:
 * - `"linear"`: kernel `[in, out]` here, `nn.Linear.weight` `[out, in]` in PyTorch (transposed);
 * - `"patch"`: kernel `[P·P·C, D]` here (rows ordered patch-row, patch-column, channel), `nn.Conv2d.weight`
 *   `[D, C, P, P]` in PyTorch;
 * - `"plain"`: the same shape and order in both (biases, LayerNorm, CLS token, position embeddings).
 */
export type ParameterLayout = "linear" | "patch" | "plain";

/** One parameter of a model with its Hugging Face `ViTForImageClassification` tensor name. */
export interface NamedParameter {
  /** Hugging Face tensor name, e.g. `"vit.encoder.layer.0.attention.attention.query.weight"`. */
  name: string;
  /** The variable (tfjs layout). */
  variable: tf.Variable;
  /** How the tfjs layout maps to the PyTorch one. */
  layout: ParameterLayout;
}

/** Creates the initial value of a parameter: `name` is its Hugging Face name, `shape` its tfjs shape. */
export type ParameterInitializer = (name: string, shape: number[], layout: ParameterLayout) => tf.Tensor;
