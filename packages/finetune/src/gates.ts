import { adapterTensorLayout } from "@kora/spec";
import { getAdapterHandle } from "@kora/tfjs";
import type { ViT } from "@kora/vit";

/** The learnable gate of one adapted projection or block, as {@link gateValues} reads it. */
export interface GateValue {
  /** The block the gate belongs to. */
  block: number;
  /** The gate's tensor name in the adapter layout, e.g. `layers.0.kora.gate` or `layers.0.value.gate`. */
  name: string;
  /** The gate's values: one for a scalar gate, one per channel for a per-channel gate. */
  values: number[];
  /** Mean of {@link GateValue.values} (the value itself for a scalar gate). */
  mean: number;
  /** Mean of the absolute values (a per-channel gate's signs can cancel in the mean). */
  absMean: number;
}

/**
 * The learnable gates of the model's active adapter, in layout order (blocks ascending): one entry per block for
 * KoRA and the gated bottleneck adapter, one per adapted projection for gated LoRA. Fixed and absent gates own no
 * tensor and are not listed; a model without an active adapter, or one whose method has no gate, gives `[]`.
 */
export function gateValues(vit: ViT): GateValue[] {
  const handle = getAdapterHandle(vit);
  if (handle === undefined || handle.activeAdapter === null) return [];
  const variables = handle.adapterVariables();
  const out: GateValue[] = [];
  for (const info of adapterTensorLayout(handle.spec(), vit.backboneShape, { includeHead: false })) {
    if (info.group !== "gate" || info.layer === null) continue;
    const variable = variables.get(info.name);
    if (variable === undefined) continue;
    const values = Array.from(variable.dataSync());
    const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
    const absMean = values.reduce((sum, v) => sum + Math.abs(v), 0) / values.length;
    out.push({ block: info.layer, name: info.name, values, mean, absMean });
  }
  return out;
}

/**
 * The names under which `trainableVariables(vit)` lists the active adapter's learnable gates (`adapter.<name>`),
 * e.g. to give them a parameter group of their own.
 */
export function gateVariableNames(vit: ViT): string[] {
  return gateValues(vit).map((gate) => `adapter.${gate.name}`);
}
