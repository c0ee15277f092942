import type { AdapterSpec } from "../spec/types";
import { adapterTensorLayout, shapeSize } from "./adapter-tensor-layout";
import { type BackboneShape, backboneParameterCount, headParameterCount } from "./backbone-shape";

/** Exact parameter counts of an adapted ViT. */
export interface ParameterCount {
  /** All adapter parameters (trainable or frozen). */
  adapter: number;
  /** Classification head parameters (`D·K + K`). */
  head: number;
  /** Backbone parameters, head excluded. */
  backbone: number;
  /** Parameters that are trained: trainable adapter tensors + head (+ backbone when fine-tuned fully). */
  trainable: number;
  /** Every parameter of the adapted model: backbone + adapter + head. */
  total: number;
  /** `trainable / total`, as peft's `print_trainable_parameters` prints it (× 100 for "params tuned %"). */
  trainableFraction: number;
  /** Adapter parameters per block, index = block (blocks without adapters have 0). */
  perLayer: number[];
}

/** Options of {@link countParameters}. */
export interface CountParametersOptions {
  /** Whether the head is trained (counted in `trainable`). Default true. */
  trainHead?: boolean;
  /** Whether the backbone is trained too (full fine-tuning control). Default false. */
  trainBackbone?: boolean;
}

/**
 * Exact parameter counts for `spec` on `backbone`, or for the bare model when `spec` is `null` (the head-only
 * and full fine-tuning controls).
 *
 * Reproduces peft's image-classification guide: ViT-B/16 with LoRA r=16 on query+value and a 101-class head has
 * 667,493 trainable parameters of 86,466,149 (peft prints 86,543,818 as "all params" because
 * `modules_to_save` keeps a second, frozen copy of the 77,669-parameter head).
 *
 * @throws KoraError `INVALID_ARGUMENT` for a malformed backbone, `INVALID_SPEC` for layers beyond its depth.
 */
export function countParameters(
  spec: AdapterSpec | null,
  backbone: BackboneShape,
  options: CountParametersOptions = {},
): ParameterCount {
  const backboneCount = backboneParameterCount(backbone);
  const head = headParameterCount(backbone);
  const perLayer = new Array<number>(backbone.depth).fill(0);
  let adapter = 0;
  let adapterTrainable = 0;
  if (spec !== null) {
    for (const tensor of adapterTensorLayout(spec, backbone, { includeHead: false })) {
      const size = shapeSize(tensor.shape);
      adapter += size;
      if (tensor.trainable) adapterTrainable += size;
      if (tensor.layer !== null) perLayer[tensor.layer] = (perLayer[tensor.layer] ?? 0) + size;
    }
  }
  const trainable =
    adapterTrainable + ((options.trainHead ?? true) ? head : 0) + (options.trainBackbone ? backboneCount : 0);
  const total = backboneCount + adapter + head;
  return {
    adapter,
    head,
    backbone: backboneCount,
    trainable,
    total,
    trainableFraction: trainable / total,
    perLayer,
  };
}
