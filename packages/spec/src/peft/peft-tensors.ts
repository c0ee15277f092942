import { KoraError } from "../errors";
import type { SpecErrorCode } from "../errors/kora-error";
import { hfModulePath, parseHfModulePath } from "../naming/hf-vit";
import type { TargetModule } from "../spec/types";

const PREFIX = "base_model.model.";

/**
 * The name peft gives a LoRA tensor in `adapter_model.safetensors`, e.g.
 * `base_model.model.vit.encoder.layer.0.attention.attention.query.lora_A.weight` (`[r, in]`; `lora_B` is
 * `[out, r]`).
 */
export function peftTensorName(layer: number, target: TargetModule, matrix: "A" | "B"): string {
  return `${PREFIX}${hfModulePath(layer, target)}.lora_${matrix}.weight`;
}

/** peft's name for the saved classifier (`modules_to_save`): `base_model.model.classifier.weight|bias`. */
export function peftHeadTensorName(kind: "weight" | "bias"): string {
  return `${PREFIX}classifier.${kind}`;
}

/**
 * Renames KoRA-TS LoRA tensors (`layers.{i}.{target}.lora_A|lora_B`, `head.weight|bias`) to peft's names.
 * The values are not copied.
 *
 * @throws KoraError `INVALID_ADAPTER_FILE` for a tensor that has no peft equivalent.
 */
export function toPeftTensorNames<T>(tensors: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [name, value] of Object.entries(tensors)) {
    const lora = /^layers\.(\d+)\.(query|key|value|output|fc1|fc2)\.lora_(A|B)$/.exec(name);
    const head = /^head\.(weight|bias)$/.exec(name);
    if (lora !== null) {
      out[peftTensorName(Number(lora[1]), lora[2] as TargetModule, lora[3] as "A" | "B")] = value;
    } else if (head !== null) {
      out[peftHeadTensorName(head[1] as "weight" | "bias")] = value;
    } else {
      throw new KoraError<SpecErrorCode>({
        code: "INVALID_ADAPTER_FILE",
        message: `tensor ${name} has no peft LoRA equivalent (only LoRA adapters export to peft)`,
        path: name,
      });
    }
  }
  return out;
}

/**
 * Renames peft LoRA tensors to KoRA-TS names (inverse of {@link toPeftTensorNames}); accepts names with or
 * without the adapter name peft uses in memory (`lora_A.default.weight`) and the `modules_to_save` wrapper.
 *
 * @throws KoraError `INVALID_ADAPTER_FILE` naming a tensor that is not a ViT LoRA or classifier tensor.
 */
export function fromPeftTensorNames<T>(tensors: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [name, value] of Object.entries(tensors)) {
    const stripped = name.startsWith(PREFIX) ? name.slice(PREFIX.length) : name;
    const lora = /^(.*)\.lora_(A|B)(?:\.[A-Za-z0-9_-]+)?\.weight$/.exec(stripped);
    const head = /^classifier(?:\.modules_to_save\.[A-Za-z0-9_-]+)?\.(weight|bias)$/.exec(stripped);
    const module = lora === null ? null : parseHfModulePath(lora[1] as string);
    if (lora !== null && module !== null) {
      out[`layers.${module.layer}.${module.target}.lora_${lora[2]}`] = value;
    } else if (head !== null) {
      out[`head.${head[1]}`] = value;
    } else {
      throw new KoraError<SpecErrorCode>({
        code: "INVALID_ADAPTER_FILE",
        message: `adapter_model.safetensors: tensor ${name} is not a LoRA tensor of a ViT query/key/value/output/fc1/fc2 or the classifier`,
        path: name,
      });
    }
  }
  return out;
}
