import { methodDefinition } from "../methods/registry";
import type { AdapterSpec } from "../spec/types";
import { type BackboneShape, validateBackboneShape } from "./backbone-shape";

/** What part of an adapted model a tensor belongs to. */
export type TensorGroup = "lora_A" | "lora_B" | "composition" | "gate" | "adapter" | "fusion" | "head";

/** One tensor of an adapter file: name, shape (PyTorch `[out, in]` for weights) and role. */
export interface AdapterTensorInfo {
  /** Name in `adapter.safetensors`, e.g. `layers.3.query.lora_A`. */
  name: string;
  /** Shape; weights are `[out, in]` as in PyTorch. */
  shape: number[];
  /** Block index, or `null` for the head. */
  layer: number | null;
  /** Role of the tensor. */
  group: TensorGroup;
  /** Whether the tensor is trained when this spec is trained (two-stage AdapterFusion freezes the adapters). */
  trainable: boolean;
}

/** Options of {@link adapterTensorLayout}. */
export interface AdapterTensorLayoutOptions {
  /** Append `head.weight` `[numClasses, D]` and `head.bias` `[numClasses]` (when numClasses > 0). Default true. */
  includeHead?: boolean;
}

/**
 * Every tensor an adapter of `spec` on `backbone` owns, in a fixed order (blocks ascending, then the method's
 * per-block order), with shapes: the method's `layout` from `ADAPTER_METHOD_REGISTRY`, plus the head. This
 * is the single source of truth for parameter counts and for validating adapter files.
 *
 * Naming: LoRA `layers.{i}.{target}.lora_A|lora_B`; KoRA `layers.{i}.kora.{query|key|value}.lora_A|lora_B`,
 * `layers.{i}.kora.composition.{fc1|fc2}.weight|bias` (mlp) or `.{query|key|value|output}.weight|bias`
 * (attention), `layers.{i}.kora.gate`; AdapterFusion `layers.{i}.adapters.{name}.{down|up}.weight|bias`,
 * `layers.{i}.fusion.{query|key|value}.weight|bias`; gated bottleneck `layers.{i}.bottleneck.{down|up}.weight|bias`,
 * `layers.{i}.bottleneck.gate`; gated LoRA `layers.{i}.{target}.lora_A|lora_B|gate`; head `head.weight|bias`.
 */
export function adapterTensorLayout(
  spec: AdapterSpec,
  backbone: BackboneShape,
  options: AdapterTensorLayoutOptions = {},
): AdapterTensorInfo[] {
  validateBackboneShape(backbone);
  const out = methodDefinition(spec).layout(spec, backbone);
  if ((options.includeHead ?? true) && backbone.numClasses > 0) {
    out.push(...headTensorLayout(backbone));
  }
  return out;
}

/** The classification head's tensors: `head.weight` `[numClasses, D]` and `head.bias` `[numClasses]`. */
export function headTensorLayout(backbone: BackboneShape): AdapterTensorInfo[] {
  if (backbone.numClasses === 0) return [];
  return [
    {
      name: "head.weight",
      shape: [backbone.numClasses, backbone.dim],
      layer: null,
      group: "head",
      trainable: true,
    },
    { name: "head.bias", shape: [backbone.numClasses], layer: null, group: "head", trainable: true },
  ];
}

/** Number of elements of a shape. */
export function shapeSize(shape: readonly number[]): number {
  let size = 1;
  for (const dim of shape) size *= dim;
  return size;
}
