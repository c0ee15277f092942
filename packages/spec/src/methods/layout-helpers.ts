import { KoraError } from "../errors";
import type { SpecErrorCode } from "../errors/kora-error";
import type { AdapterTensorInfo, TensorGroup } from "../params/adapter-tensor-layout";
import type { BackboneShape } from "../params/backbone-shape";

/** The blocks a spec adapts, validated against the backbone depth. */
export function adaptedLayers(spec: { layers: number[] | null }, backbone: BackboneShape): number[] {
  if (spec.layers === null) return Array.from({ length: backbone.depth }, (_, i) => i);
  spec.layers.forEach((layer, i) => {
    if (layer >= backbone.depth) {
      throw new KoraError<SpecErrorCode>({
        code: "INVALID_SPEC",
        message: `adapter spec field layers[${i}]: block ${layer} does not exist in a backbone of depth ${backbone.depth}`,
        path: `layers[${i}]`,
      });
    }
  });
  return [...spec.layers];
}

/** Appends `{prefix}.weight` `[outDim, inDim]` (and `{prefix}.bias` `[outDim]`) to a layout. @internal */
export function pushLinear(
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

/** Appends `{prefix}.lora_A` `[rank, in]` and `{prefix}.lora_B` `[out, rank]` to a layout. @internal */
export function pushLoraPair(
  out: AdapterTensorInfo[],
  prefix: string,
  layer: number,
  rank: number,
  shape: { in: number; out: number },
): void {
  out.push({ name: `${prefix}.lora_A`, shape: [rank, shape.in], layer, group: "lora_A", trainable: true });
  out.push({ name: `${prefix}.lora_B`, shape: [shape.out, rank], layer, group: "lora_B", trainable: true });
}

/** Appends a learnable gate `{prefix}.gate` (`[1]` or `[D]`); fixed and absent gates own no tensor. @internal */
export function pushGate(
  out: AdapterTensorInfo[],
  prefix: string,
  layer: number,
  gate: { per: "scalar" | "channel"; mode: "learnable" | "fixed" | "none" },
  dim: number,
): void {
  if (gate.mode !== "learnable") return;
  out.push({
    name: `${prefix}.gate`,
    shape: [gate.per === "scalar" ? 1 : dim],
    layer,
    group: "gate",
    trainable: true,
  });
}
