import type { AdapterSpec, AdapterTensorInfo } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import { tfjsShape } from "../core/init";
import { initialAdapterTensor } from "../methods/method-modules";

/** The base options every tfjs layer accepts (`name`, `trainable`, `inputShape`, ...). */
export type BaseLayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

/** A tfjs-layers weight as it is read in `call` (the `LayerVariable` API is not exported by tfjs). */
export interface LayerWeight {
  /** The current value (a `tf.Variable`). */
  read(): tf.Tensor;
  /** Replaces the value. */
  write(value: tf.Tensor): unknown;
}

/** The one input tensor of a single-input layer. */
export function singleInput(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  const x = Array.isArray(inputs) ? inputs[0] : inputs;
  if (x === undefined) throw new Error("expected one input tensor");
  return x;
}

/** The last dimension of an input shape, or an error naming the layer. */
export function inputWidth(inputShape: tf.Shape | tf.Shape[], layer: string): number {
  const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
  const width = shape[shape.length - 1];
  if (typeof width !== "number") throw new Error(`${layer}: the input's last dimension must be known`);
  return width;
}

/** Adds one non-regularised float32 weight of tfjs shape `tfjsShape(info.shape)` initialised like an adapter tensor. */
export function addAdapterWeight(
  add: (name: string, shape: number[], trainable: boolean) => LayerWeight,
  spec: AdapterSpec,
  info: AdapterTensorInfo,
  layout: ReadonlyMap<string, AdapterTensorInfo>,
  weightName: string,
  seed: number,
): LayerWeight {
  const weight = add(weightName, tfjsShape(info.shape), info.trainable);
  const initial = initialAdapterTensor(spec, info, layout, seed);
  weight.write(initial);
  initial.dispose();
  return weight;
}

/** Applies a tfjs activation by name (`"linear"`, `"relu"`, ...) as a Dense layer would. */
export function activationLayer(activation: string | undefined): tf.layers.Layer | null {
  if (activation === undefined || activation === "linear") return null;
  return tf.layers.activation({ activation: activation as "relu" });
}
