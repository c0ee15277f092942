import type { ViTConfig } from "../config/vit-config";
import type { ParameterLayout } from "./parameters";

/** One backbone parameter: Hugging Face name, tfjs shape and layout. */
export interface ParameterSpec {
  /** Hugging Face `ViTForImageClassification` tensor name. */
  name: string;
  /** Shape in tfjs layout. */
  shape: number[];
  /** How the tfjs layout maps to PyTorch's. */
  layout: ParameterLayout;
}

/**
 * Every backbone parameter of a ViT with `config`, in a fixed order: the single source of truth for the model's
 * variables, the loader's expected tensors and the saver's names.
 */
export function backboneParameterSpecs(config: ViTConfig): ParameterSpec[] {
  const { dim: d, mlpDim: m, patchSize: p, channels: c } = config;
  const tokens = (config.imageSize / p) ** 2 + 1;
  const specs: ParameterSpec[] = [
    { name: "vit.embeddings.cls_token", shape: [1, 1, d], layout: "plain" },
    { name: "vit.embeddings.position_embeddings", shape: [1, tokens, d], layout: "plain" },
    { name: "vit.embeddings.patch_embeddings.projection.weight", shape: [p * p * c, d], layout: "patch" },
    { name: "vit.embeddings.patch_embeddings.projection.bias", shape: [d], layout: "plain" },
  ];
  const linear = (name: string, inputs: number, outputs: number) => {
    specs.push({ name: `${name}.weight`, shape: [inputs, outputs], layout: "linear" });
    specs.push({ name: `${name}.bias`, shape: [outputs], layout: "plain" });
  };
  const norm = (name: string) => {
    specs.push({ name: `${name}.weight`, shape: [d], layout: "plain" });
    specs.push({ name: `${name}.bias`, shape: [d], layout: "plain" });
  };
  for (let layer = 0; layer < config.depth; layer++) {
    const prefix = `vit.encoder.layer.${layer}.`;
    norm(`${prefix}layernorm_before`);
    linear(`${prefix}attention.attention.query`, d, d);
    linear(`${prefix}attention.attention.key`, d, d);
    linear(`${prefix}attention.attention.value`, d, d);
    linear(`${prefix}attention.output.dense`, d, d);
    norm(`${prefix}layernorm_after`);
    linear(`${prefix}intermediate.dense`, d, m);
    linear(`${prefix}output.dense`, m, d);
  }
  norm("vit.layernorm");
  return specs;
}

/** The PyTorch shape of a parameter given its tfjs shape and layout (`patchSize`/`channels` for `"patch"`). */
export function torchShape(
  shape: readonly number[],
  layout: ParameterLayout,
  config: Pick<ViTConfig, "patchSize" | "channels">,
): number[] {
  switch (layout) {
    case "linear":
      return [shape[1] as number, shape[0] as number];
    case "patch":
      return [shape[1] as number, config.channels, config.patchSize, config.patchSize];
    default:
      return [...shape];
  }
}
