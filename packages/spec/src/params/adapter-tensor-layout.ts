import { KoraError } from "../errors";
import type { AdapterFusionSpec, AdapterSpec, KoraSpec, LoraSpec, TargetModule } from "../spec/types";
import { type BackboneShape, targetModuleShape, validateBackboneShape } from "./backbone-shape";

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

/** The blocks a spec adapts, validated against the backbone depth. */
export function adaptedLayers(spec: AdapterSpec, backbone: BackboneShape): number[] {
  if (spec.layers === null) return Array.from({ length: backbone.depth }, (_, i) => i);
  spec.layers.forEach((layer, i) => {
    if (layer >= backbone.depth) {
      throw new KoraError({
        code: "INVALID_SPEC",
        message: `adapter spec field layers[${i}]: block ${layer} does not exist in a backbone of depth ${backbone.depth}`,
        path: `layers[${i}]`,
      });
    }
  });
  return [...spec.layers];
}

/** Bottleneck width of an AdapterFusion spec on a backbone of hidden size `dim`. */
export function fusionBottleneck(spec: AdapterFusionSpec, dim: number): number {
  return spec.bottleneck ?? Math.max(1, Math.floor(dim / spec.reduction));
}

function linear(
  out: AdapterTensorInfo[],
  prefix: string,
  layer: number,
  group: TensorGroup,
  outDim: number,
  inDim: number,
  bias: boolean,
  trainable = true,
): void {
  out.push({ name: `${prefix}.weight`, shape: [outDim, inDim], layer, group, trainable });
  if (bias) out.push({ name: `${prefix}.bias`, shape: [outDim], layer, group, trainable });
}

function loraPair(
  out: AdapterTensorInfo[],
  prefix: string,
  layer: number,
  rank: number,
  shape: { in: number; out: number },
): void {
  out.push({ name: `${prefix}.lora_A`, shape: [rank, shape.in], layer, group: "lora_A", trainable: true });
  out.push({ name: `${prefix}.lora_B`, shape: [shape.out, rank], layer, group: "lora_B", trainable: true });
}

function loraLayout(spec: LoraSpec, backbone: BackboneShape, out: AdapterTensorInfo[]): void {
  const order: TargetModule[] = ["query", "key", "value", "output", "fc1", "fc2"];
  for (const layer of adaptedLayers(spec, backbone)) {
    for (const target of order) {
      if (!spec.targets.includes(target)) continue;
      loraPair(out, `layers.${layer}.${target}`, layer, spec.rank, targetModuleShape(target, backbone));
    }
  }
}

function koraLayout(spec: KoraSpec, backbone: BackboneShape, out: AdapterTensorInfo[]): void {
  const d = backbone.dim;
  const h = spec.composition.hidden;
  const bias = spec.composition.bias;
  for (const layer of adaptedLayers(spec, backbone)) {
    const prefix = `layers.${layer}.kora`;
    for (const target of ["query", "key", "value"] as const) {
      loraPair(out, `${prefix}.${target}`, layer, spec.rank, { in: d, out: d });
    }
    const comp = `${prefix}.composition`;
    if (spec.composition.kind === "mlp") {
      linear(out, `${comp}.fc1`, layer, "composition", h, 3 * d, bias);
      linear(out, `${comp}.fc2`, layer, "composition", d, h, bias);
    } else {
      for (const projection of ["query", "key", "value"]) {
        linear(out, `${comp}.${projection}`, layer, "composition", h, d, bias);
      }
      linear(out, `${comp}.output`, layer, "composition", d, h, bias);
    }
    if (spec.gate.mode === "learnable") {
      out.push({
        name: `${prefix}.gate`,
        shape: [spec.gate.per === "scalar" ? 1 : d],
        layer,
        group: "gate",
        trainable: true,
      });
    }
  }
}

function fusionLayout(spec: AdapterFusionSpec, backbone: BackboneShape, out: AdapterTensorInfo[]): void {
  const d = backbone.dim;
  const b = fusionBottleneck(spec, d);
  const a = spec.fusion.attentionDim ?? d;
  const adaptersTrainable = spec.training === "single-stage";
  for (const layer of adaptedLayers(spec, backbone)) {
    for (const name of spec.adapters) {
      const prefix = `layers.${layer}.adapters.${name}`;
      linear(out, `${prefix}.down`, layer, "adapter", b, d, true, adaptersTrainable);
      linear(out, `${prefix}.up`, layer, "adapter", d, b, true, adaptersTrainable);
    }
    const fusion = `layers.${layer}.fusion`;
    linear(out, `${fusion}.query`, layer, "fusion", a, d, true);
    linear(out, `${fusion}.key`, layer, "fusion", a, d, true);
    if (spec.fusion.variant === "dynamic") linear(out, `${fusion}.value`, layer, "fusion", d, d, true);
  }
}

/**
 * Every tensor an adapter of `spec` on `backbone` owns, in a fixed order (blocks ascending; within a block LoRA's
 * targets in `query key value output fc1 fc2` order, KoRA's q/k/v pairs then composition then gate,
 * AdapterFusion's adapters then fusion), with shapes. This is the single source of truth for parameter counts and
 * for validating adapter files.
 *
 * Naming: LoRA `layers.{i}.{target}.lora_A|lora_B`; KoRA `layers.{i}.kora.{query|key|value}.lora_A|lora_B`,
 * `layers.{i}.kora.composition.{fc1|fc2}.weight|bias` (mlp) or `.{query|key|value|output}.weight|bias`
 * (attention), `layers.{i}.kora.gate`; AdapterFusion `layers.{i}.adapters.{name}.{down|up}.weight|bias`,
 * `layers.{i}.fusion.{query|key|value}.weight|bias`; head `head.weight|bias`.
 */
export function adapterTensorLayout(
  spec: AdapterSpec,
  backbone: BackboneShape,
  options: AdapterTensorLayoutOptions = {},
): AdapterTensorInfo[] {
  validateBackboneShape(backbone);
  const out: AdapterTensorInfo[] = [];
  switch (spec.method) {
    case "lora":
      loraLayout(spec, backbone, out);
      break;
    case "kora":
      koraLayout(spec, backbone, out);
      break;
    case "adapter-fusion":
      fusionLayout(spec, backbone, out);
      break;
  }
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
