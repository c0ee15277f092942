import type { AdapterSpec, AdapterTensorInfo } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";

/**
 * The tfjs shape of an adapter tensor: weights are stored `[in, out]` (tfjs kernels), the transpose of the
 * PyTorch `[out, in]` layout of `adapterTensorLayout`; vectors are unchanged.
 */
export function tfjsShape(layoutShape: readonly number[]): number[] {
  return layoutShape.length === 2 ? [layoutShape[1] as number, layoutShape[0] as number] : [...layoutShape];
}

/** Uniform `U(-bound, bound)` in tfjs layout. */
function uniform(shape: number[], bound: number, seed: number): tf.Tensor {
  return tf.randomUniform(shape, -bound, bound, "float32", seed);
}

/**
 * PyTorch's `nn.Linear` default for a weight of layout `[out, in]`: Kaiming-uniform with a = √5, i.e.
 * `U(±1/√in)`; peft uses the same for `lora_A`.
 */
export function kaimingUniform(layoutShape: readonly number[], seed: number): tf.Tensor {
  const fanIn = layoutShape[1] as number;
  return uniform(tfjsShape(layoutShape), 1 / Math.sqrt(fanIn), seed);
}

/**
 * How a method initialises one of its tensors (tfjs layout), given the whole layout by name (e.g. to find the
 * fan-in of a bias) and a per-tensor seed. Each method's module file defines one; they are collected in
 * `METHOD_MODULES`. Head tensors are never created by an initialiser (they belong to the model).
 */
export type TensorInitialiser<S extends AdapterSpec> = (
  spec: S,
  info: AdapterTensorInfo,
  layout: ReadonlyMap<string, AdapterTensorInfo>,
  seed: number,
) => tf.Tensor;

/**
 * PyTorch's `nn.Linear` default for a weight or bias of a linear layer: weights Kaiming-uniform (`U(±1/√in)`),
 * biases `U(±1/√in)` with `in` the fan-in of the weight beside them.
 */
export function linearDefault(
  info: AdapterTensorInfo,
  layout: ReadonlyMap<string, AdapterTensorInfo>,
  seed: number,
): tf.Tensor {
  if (info.name.endsWith(".weight")) return kaimingUniform(info.shape, seed);
  return uniform(tfjsShape(info.shape), 1 / Math.sqrt(fanInOfBias(info, layout)), seed);
}

function fanInOfBias(info: AdapterTensorInfo, layout: ReadonlyMap<string, AdapterTensorInfo>): number {
  const weight = layout.get(info.name.replace(/\.bias$/, ".weight"));
  return (weight?.shape[1] ?? info.shape[0]) as number;
}
