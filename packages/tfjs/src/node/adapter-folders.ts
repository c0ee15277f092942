import {
  type AdapterManifest,
  type AdapterTensor,
  KoraError,
  type LoraSpec,
  methodDefinition,
} from "@kora/spec";
import { readAdapterDir, readPeftDir, writeAdapterDir, writePeftDir } from "@kora/spec/node";
import {
  type AdapterHandle,
  applyAdapters,
  getAdapterHandle,
  requireAdapterHandle,
} from "../adapters/adapter-handle";
import type { TfjsErrorCode } from "../errors";
import type { AdaptableModel } from "../sites/adaptable-model";

/** Options of {@link saveAdapter}. */
export interface SaveAdapterOptions {
  /** Adapter to save. Default: the active one. */
  name?: string;
  /** Store the head (`head.weight`, `head.bias`) too. Default: `true` when the model has a linear head. */
  includeHead?: boolean;
  /** String metadata for `adapter.json` and the safetensors header (dataset, seed, ...). */
  metadata?: Record<string, string>;
}

/**
 * Writes an adapter folder in the `@kora/spec` format (`adapter.json` + `adapter.safetensors`, PyTorch `[out, in]`
 * weights), atomically. Node only (`@kora/tfjs/node`).
 *
 * @returns the manifest written.
 */
export async function saveAdapter(
  model: AdaptableModel,
  dir: string,
  options: SaveAdapterOptions = {},
): Promise<AdapterManifest> {
  const handle = requireAdapterHandle(model);
  const name = options.name ?? handle.activeAdapter ?? undefined;
  const tensors = handle.getAdapterTensors({
    ...(name === undefined ? {} : { name }),
    ...(options.includeHead === undefined ? {} : { includeHead: options.includeHead }),
  });
  return writeAdapterDir(dir, {
    spec: handle.spec(name),
    backbone: model.backboneShape,
    tensors,
    includeHead: Object.hasOwn(tensors, "head.weight"),
    ...(name === undefined ? {} : { name }),
    ...(options.metadata === undefined ? {} : { metadata: options.metadata }),
  });
}

/** Options of {@link loadAdapter} and {@link importPeft}. */
export interface LoadAdapterOptions {
  /** Name to load the adapter under. Default: the name in `adapter.json` (`"default"` for peft folders). */
  name?: string;
  /** Make the loaded adapter active. Default `true`. */
  activate?: boolean;
}

function attach(
  model: AdaptableModel,
  spec: Parameters<typeof applyAdapters>[1],
  name: string,
  tensors: Record<string, AdapterTensor>,
  activate: boolean,
): AdapterHandle {
  let handle = getAdapterHandle(model);
  if (handle === undefined || !handle.adapterNames.includes(name)) {
    handle = applyAdapters(model, spec, { name, activate });
  } else {
    const existing = JSON.stringify(handle.spec(name));
    if (existing !== JSON.stringify(spec)) {
      throw new KoraError<TfjsErrorCode>({
        code: "SPEC_MISMATCH",
        message: `adapter "${name}" is already attached with spec ${existing}; the loaded one has ${JSON.stringify(spec)}. Load it under another name.`,
        path: "name",
      });
    }
    if (activate) handle.setActiveAdapter(name);
  }
  handle.setAdapterTensors(tensors, { name });
  return handle;
}

/**
 * Reads an adapter folder written by {@link saveAdapter} and attaches it (creating the adapter when the model
 * has none of that name). The stored backbone shape must equal the model's. Node only (`@kora/tfjs/node`).
 *
 * @throws KoraError `SHAPE_MISMATCH` naming both backbone shapes, `FILE_NOT_FOUND`, `INVALID_ADAPTER_FILE`,
 * `SPEC_MISMATCH` (an adapter of that name with another spec is attached).
 */
export async function loadAdapter(
  model: AdaptableModel,
  dir: string,
  options: LoadAdapterOptions = {},
): Promise<AdapterHandle> {
  const file = await readAdapterDir(dir, { backbone: model.backboneShape });
  return attach(
    model,
    file.manifest.spec,
    options.name ?? file.manifest.name,
    file.tensors,
    options.activate ?? true,
  );
}

/** Options of {@link exportPeft}. */
export interface ExportPeftOptions {
  /** Adapter to export. Default: the active one. */
  name?: string;
  /** `base_model_name_or_path`, e.g. `"google/vit-base-patch16-224-in21k"`. Default `null`. */
  baseModel?: string | null;
  /** Save the classifier too (`modules_to_save: ["classifier"]`). Default: `true` when the model has a linear head. */
  includeHead?: boolean;
}

/**
 * Writes a LoRA adapter as a peft folder: `adapter_config.json` (peft_type LORA, r, lora_alpha, lora_dropout,
 * target_modules, bias "none", modules_to_save ["classifier"], use_rslora, base_model_name_or_path) and
 * `adapter_model.safetensors` (HF ViT names, `lora_A.weight [r, in]`, `lora_B.weight [out, r]`, metadata
 * `{"format": "pt"}`). Loadable with `PeftModel.from_pretrained`. Node only (`@kora/tfjs/node`).
 *
 * @throws KoraError `INVALID_SPEC` for KoRA/AdapterFusion (no peft equivalent).
 */
export async function exportPeft(
  model: AdaptableModel,
  dir: string,
  options: ExportPeftOptions = {},
): Promise<void> {
  const handle = requireAdapterHandle(model);
  const name = options.name ?? handle.activeAdapter ?? undefined;
  const spec = handle.spec(name);
  if (spec.method !== "lora") {
    throw new KoraError<TfjsErrorCode>({
      code: "INVALID_SPEC",
      message: `cannot export adapter "${name}" to peft: it is a ${spec.method} adapter, and peft has no equivalent of ${methodDefinition(spec).title}; use saveAdapter`,
      path: "method",
    });
  }
  const tensors = handle.getAdapterTensors({
    ...(name === undefined ? {} : { name }),
    ...(options.includeHead === undefined ? {} : { includeHead: options.includeHead }),
  });
  await writePeftDir(dir, {
    spec: spec as LoraSpec,
    backbone: model.backboneShape,
    tensors,
    baseModel: options.baseModel ?? null,
  });
}

/**
 * Reads a peft LoRA folder for an HF ViT of the model's shape (suffix-list or regex `target_modules`,
 * `layers_to_transform`) and attaches it as a LoRA adapter (default name `"default"`). Node only (`@kora/tfjs/node`).
 *
 * @throws KoraError `INVALID_ADAPTER_FILE` for configs KoRA-TS cannot represent, `SHAPE_MISMATCH`.
 */
export async function importPeft(
  model: AdaptableModel,
  dir: string,
  options: LoadAdapterOptions = {},
): Promise<AdapterHandle> {
  const { spec, tensors } = await readPeftDir(dir, model.backboneShape);
  return attach(model, spec, options.name ?? "default", tensors, options.activate ?? true);
}

/** Options of {@link loadFusionAdapter}. */
export interface LoadFusionAdapterOptions {
  /** The AdapterFusion adapter (on the model) to load into. Default: the active one. */
  name?: string;
  /** Bottleneck adapter of the fusion to fill. */
  into: string;
  /** Bottleneck adapter to read from the folder. Default: its only adapter, or `into`. */
  from?: string;
}

/**
 * Two-stage AdapterFusion, stage 2: copies a bottleneck adapter trained in stage 1 (an AdapterFusion folder from
 * {@link saveAdapter}, typically with one adapter; a fusion over one adapter is that adapter) into the fusion
 * adapter `into` of the model's AdapterFusion adapter. With `training: "two-stage"` the copied adapters stay
 * frozen and only the fusion trains. Node only (`@kora/tfjs/node`).
 *
 * @throws KoraError `SHAPE_MISMATCH` (other backbone or bottleneck), `INVALID_ARGUMENT` (missing adapter/block).
 */
export async function loadFusionAdapter(
  model: AdaptableModel,
  dir: string,
  options: LoadFusionAdapterOptions,
): Promise<void> {
  const handle = requireAdapterHandle(model);
  const spec = handle.spec(options.name);
  if (spec.method !== "adapter-fusion" || !spec.adapters.includes(options.into)) {
    throw new KoraError<TfjsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `loadFusionAdapter: the target must be an AdapterFusion adapter with a bottleneck adapter "${options.into}"`,
      path: "into",
    });
  }
  const file = await readAdapterDir(dir, { backbone: model.backboneShape });
  const source = file.manifest.spec;
  if (source.method !== "adapter-fusion") {
    throw new KoraError<TfjsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `${dir}: holds a ${source.method} adapter, not AdapterFusion bottleneck adapters`,
      path: "from",
    });
  }
  const from = options.from ?? (source.adapters.length === 1 ? (source.adapters[0] as string) : options.into);
  const tensors = handle.getAdapterTensors({
    ...(options.name === undefined ? {} : { name: options.name }),
    includeHead: false,
  });
  for (const key of Object.keys(tensors)) {
    const match = /^layers\.(\d+)\.adapters\.([^.]+)\.(down|up)\.(weight|bias)$/.exec(key);
    if (match === null || match[2] !== options.into) continue;
    const sourceName = `layers.${match[1]}.adapters.${from}.${match[3]}.${match[4]}`;
    const value = file.tensors[sourceName];
    const target = tensors[key] as AdapterTensor;
    if (value === undefined) {
      throw new KoraError<TfjsErrorCode>({
        code: "INVALID_ARGUMENT",
        message: `${dir}: has no tensor ${sourceName} (adapters: ${source.adapters.join(", ")}; layers: ${source.layers === null ? "all" : source.layers.join(", ")})`,
        path: "from",
      });
    }
    if (value.shape.join() !== target.shape.join()) {
      throw new KoraError<TfjsErrorCode>({
        code: "SHAPE_MISMATCH",
        message: `${dir}: ${sourceName} has shape [${value.shape.join(", ")}] but ${key} needs [${target.shape.join(", ")}] (different bottleneck)`,
        path: key,
      });
    }
    tensors[key] = value;
  }
  handle.setAdapterTensors(tensors, options.name === undefined ? {} : { name: options.name });
}
