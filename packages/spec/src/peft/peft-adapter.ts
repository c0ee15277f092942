import type { AdapterTensor } from "../adapter-file/adapter-file";
import { parseManifestJson, validateAdapterTensors } from "../adapter-file/adapter-file";
import { KoraError } from "../errors";
import type { SpecErrorCode } from "../errors/kora-error";
import { adapterTensorLayout } from "../params/adapter-tensor-layout";
import type { BackboneShape } from "../params/backbone-shape";
import { readSafetensors, toFloat32, writeSafetensors } from "../safetensors";
import { parseAdapterSpec } from "../spec/parse-adapter-spec";
import type { LoraSpec } from "../spec/types";
import { fromPeftConfig, type PeftLoraConfig, toPeftConfig } from "./peft-config";
import { fromPeftTensorNames, toPeftTensorNames } from "./peft-tensors";

/** File names of a peft adapter folder. */
export const PEFT_FILES = { config: "adapter_config.json", tensors: "adapter_model.safetensors" } as const;

/** Input of {@link encodePeftAdapter}. */
export interface EncodePeftAdapterInput {
  /** A LoRA spec (peft has no KoRA, AdapterFusion, gated bottleneck or gated LoRA). */
  spec: LoraSpec;
  /** Backbone shape. */
  backbone: BackboneShape;
  /** LoRA tensors named as in `adapterTensorLayout` (plus `head.weight|bias` to save the classifier). */
  tensors: Record<string, AdapterTensor>;
  /** `base_model_name_or_path` of the config. */
  baseModel?: string | null;
}

/**
 * Encodes a LoRA adapter as a peft folder: `adapter_config.json` + `adapter_model.safetensors` with peft's tensor
 * names (`base_model.model.vit.encoder.layer.N.attention.attention.query.lora_A.weight` `[r, in]`, `lora_B`
 * `[out, r]`, and the head as `base_model.model.classifier.weight|bias`). Loadable with
 * `PeftModel.from_pretrained(ViTForImageClassification.from_pretrained(...), dir)`.
 *
 * @throws KoraError `INVALID_SPEC` for a non-LoRA spec; `SHAPE_MISMATCH`/`INVALID_ADAPTER_FILE` for bad tensors.
 */
export function encodePeftAdapter(input: EncodePeftAdapterInput): {
  configJson: string;
  safetensors: Uint8Array;
} {
  const spec = parseAdapterSpec(input.spec);
  if (spec.method !== "lora") {
    throw new KoraError<SpecErrorCode>({
      code: "INVALID_SPEC",
      message: `only LoRA adapters export to peft; peft has no ${spec.method} adapter${spec.method === "gated-lora" ? " (merge it into the kernels instead: peft cannot hold its gates)" : ""}`,
      path: "method",
    });
  }
  const includeHead = Object.hasOwn(input.tensors, "head.weight");
  validateAdapterTensors(spec, input.backbone, input.tensors, { includeHead, file: PEFT_FILES.tensors });
  const ordered: Record<string, { dtype: "F32"; shape: number[]; data: Float32Array }> = {};
  for (const { name } of adapterTensorLayout(spec, input.backbone, { includeHead })) {
    const tensor = input.tensors[name] as AdapterTensor;
    ordered[name] = { dtype: "F32", shape: [...tensor.shape], data: tensor.data };
  }
  const config = toPeftConfig(spec, input.backbone, { baseModel: input.baseModel ?? null, includeHead });
  return {
    configJson: `${JSON.stringify(config, null, 2)}\n`,
    safetensors: writeSafetensors(toPeftTensorNames(ordered), { format: "pt" }),
  };
}

/** Input of {@link decodePeftAdapter}. */
export interface DecodePeftAdapterInput {
  /** Content of `adapter_config.json` (text or parsed). */
  config: string | unknown;
  /** Content of `adapter_model.safetensors`. */
  safetensors: Uint8Array;
  /** Shape of the ViT the adapter belongs to. */
  backbone: BackboneShape;
}

/**
 * Reads a peft LoRA folder's two files into a LoRA spec and tensors with KoRA-TS names, validating every tensor's
 * shape against the spec and backbone.
 *
 * @throws KoraError `INVALID_ADAPTER_FILE`, `INVALID_SAFETENSORS`, `INVALID_SPEC` or `SHAPE_MISMATCH`.
 */
export function decodePeftAdapter(input: DecodePeftAdapterInput): {
  spec: LoraSpec;
  tensors: Record<string, AdapterTensor>;
  config: PeftLoraConfig;
} {
  const config = parseManifestJson(input.config, PEFT_FILES.config);
  const spec = fromPeftConfig(config, input.backbone);
  const contents = readSafetensors(input.safetensors);
  const renamed = fromPeftTensorNames(contents.tensors);
  const tensors: Record<string, AdapterTensor> = {};
  for (const [name, tensor] of Object.entries(renamed)) {
    tensors[name] = { shape: [...tensor.shape], data: toFloat32(tensor) };
  }
  validateAdapterTensors(spec, input.backbone, tensors, {
    includeHead: Object.hasOwn(tensors, "head.weight"),
    file: PEFT_FILES.tensors,
  });
  return { spec, tensors, config: config as PeftLoraConfig };
}
