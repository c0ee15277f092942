/**
 * The scaling `s` of a low-rank update `s·B·A`: `alpha / rank`, or `alpha / √rank` with rsLoRA (Kalajdzievski
 * 2023), exactly as peft computes it.
 */
export function loraScaling(spec: { rank: number; alpha: number; rslora: boolean }): number {
  return spec.rslora ? spec.alpha / Math.sqrt(spec.rank) : spec.alpha / spec.rank;
}
