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
function kaimingUniform(layoutShape: readonly number[], seed: number): tf.Tensor {
  const fanIn = layoutShape[1] as number;
  return uniform(tfjsShape(layoutShape), 1 / Math.sqrt(fanIn), seed);
}

/**
 * The initial value (tfjs layout) of one adapter tensor.
 *
 * - LoRA: `lora_A` Kaiming-uniform (`U(±1/√in)`, peft's `init_lora_weights=True`) or `N(0, (1/r)²)` (peft's
 *   `"gaussian"`: std 1/r); `lora_B` zeros. The adapted model equals the base model.
 * - KoRA: `lora_A` Kaiming-uniform as LoRA; `lora_B` `N(0, bInitStd²)` (not zero: the gate is 0, so
 *   zero B would leave no gradient path); composition weights as PyTorch's `nn.Linear` (weights and biases
 *   `U(±1/√fan_in)`); the gate `gate.init` (0 by default), which makes the adapted model equal the base model.
 * - AdapterFusion: adapter `down` as `nn.Linear`, `up` weight and both biases zero (every adapter starts as the
 *   identity `h + 0`); fusion query/key `N(0, 0.02²)` with zero bias (AdapterHub); dynamic value identity with
 *   zero bias. The adapted model equals the base model.
 * - Head tensors are never created here (they belong to the model).
 */
export function initialAdapterTensor(
  spec: AdapterSpec,
  info: AdapterTensorInfo,
  layout: ReadonlyMap<string, AdapterTensorInfo>,
  seed: number,
): tf.Tensor {
  const shape = tfjsShape(info.shape);
  const name = info.name;
  switch (spec.method) {
    case "lora":
      if (info.group === "lora_B") return tf.zeros(shape);
      return spec.init === "gaussian"
        ? tf.randomNormal(shape, 0, 1 / spec.rank, "float32", seed)
        : kaimingUniform(info.shape, seed);
    case "kora":
      if (info.group === "lora_A") return kaimingUniform(info.shape, seed);
      if (info.group === "lora_B") return tf.randomNormal(shape, 0, spec.bInitStd, "float32", seed);
      if (info.group === "gate") return tf.fill(shape, spec.gate.init);
      if (name.endsWith(".weight")) return kaimingUniform(info.shape, seed);
      return uniform(shape, 1 / Math.sqrt(fanInOfBias(info, layout)), seed);
    case "adapter-fusion":
      if (name.endsWith(".down.weight")) return kaimingUniform(info.shape, seed);
      if (name.endsWith(".value.weight")) return tf.eye(shape[0] as number);
      if (name.endsWith(".query.weight") || name.endsWith(".key.weight")) {
        return tf.randomNormal(shape, 0, 0.02, "float32", seed);
      }
      return tf.zeros(shape);
  }
}

function fanInOfBias(info: AdapterTensorInfo, layout: ReadonlyMap<string, AdapterTensorInfo>): number {
  const weight = layout.get(info.name.replace(/\.bias$/, ".weight"));
  return (weight?.shape[1] ?? info.shape[0]) as number;
}
