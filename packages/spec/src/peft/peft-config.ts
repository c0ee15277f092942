import { KoraError } from "../errors";
import type { SpecErrorCode } from "../errors/kora-error";
import { adaptedLayers } from "../methods/layout-helpers";
import { hfBlockModuleSuffix, hfModulePath } from "../naming/hf-vit";
import type { BackboneShape } from "../params/backbone-shape";
import { parseAdapterSpec } from "../spec/parse-adapter-spec";
import { type LoraSpec, TARGET_MODULES, type TargetModule } from "../spec/types";
import { unsafeTargetRegex } from "./target-regex";

/** The fields of peft's `adapter_config.json` (LoRA) that KoRA-TS reads and writes. */
export interface PeftLoraConfig {
  peft_type: "LORA";
  task_type: string | null;
  base_model_name_or_path: string | null;
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  /** A list of module-name suffixes, or a regex that must match a whole module name. */
  target_modules: string[] | string;
  bias: "none";
  use_rslora: boolean;
  init_lora_weights: boolean | "gaussian";
  modules_to_save: string[] | null;
  layers_to_transform: number[] | null;
  layers_pattern: string | null;
  rank_pattern: Record<string, number>;
  alpha_pattern: Record<string, number>;
  fan_in_fan_out: boolean;
  inference_mode: boolean;
  use_dora: boolean;
  [key: string]: unknown;
}

/** Options of {@link toPeftConfig}. */
export interface ToPeftConfigOptions {
  /** `base_model_name_or_path`, e.g. `"google/vit-base-patch16-224-in21k"`. Default `null`. */
  baseModel?: string | null;
  /** Whether the classifier is saved beside the adapter (`modules_to_save: ["classifier"]`). Default true. */
  includeHead?: boolean;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The peft `adapter_config.json` equivalent to a LoRA spec on an HF ViT.
 *
 * peft matches a list entry as a suffix of the module name, so `"output.dense"` would select both the attention
 * output and fc2; when `output`, `fc1` or `fc2` are targeted, or only some blocks are, `target_modules` is
 * written as a full-match regex instead (peft ignores `layers_to_transform` for regex targets).
 */
export function toPeftConfig(spec: LoraSpec, backbone: BackboneShape, options: ToPeftConfigOptions = {}) {
  const layers = adaptedLayers(spec, backbone);
  const simple =
    spec.layers === null && spec.targets.every((t) => t === "query" || t === "key" || t === "value");
  const ordered = TARGET_MODULES.filter((t) => spec.targets.includes(t));
  const layerPattern = spec.layers === null ? "\\d+" : `(?:${layers.join("|")})`;
  const targetModules = simple
    ? ordered.map((t) => t as string)
    : `.*\\.encoder\\.layer\\.${layerPattern}\\.(?:${ordered.map((t) => escapeRegex(hfBlockModuleSuffix(t))).join("|")})`;
  const config: PeftLoraConfig = {
    peft_type: "LORA",
    task_type: null,
    base_model_name_or_path: options.baseModel ?? null,
    r: spec.rank,
    lora_alpha: spec.alpha,
    lora_dropout: spec.dropout,
    target_modules: targetModules,
    bias: "none",
    use_rslora: spec.rslora,
    init_lora_weights: spec.init === "gaussian" ? "gaussian" : true,
    modules_to_save: (options.includeHead ?? true) ? ["classifier"] : null,
    layers_to_transform: null,
    layers_pattern: null,
    rank_pattern: {},
    alpha_pattern: {},
    fan_in_fan_out: false,
    inference_mode: true,
    use_dora: false,
  };
  return config;
}

/**
 * A config value for a message: its JSON, at most 60 characters. Never throws, unlike `String()` (which calls the
 * value's own `toString`, here any key a file sets) or `JSON.stringify` alone (BigInts and cycles, which a config
 * given as an object rather than parsed text may hold).
 */
function shown(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  if (text !== undefined) return text.length > 60 ? `${text.slice(0, 57)}...` : text;
  return value === undefined ? "nothing" : typeof value === "object" ? "an object" : `a ${typeof value}`;
}

function unsupported(field: string, message: string): KoraError {
  return new KoraError<SpecErrorCode>({
    code: "INVALID_ADAPTER_FILE",
    message: `adapter_config.json ${field}: ${message}`,
    path: field,
  });
}

function selectsModule(config: Record<string, unknown>, modulePath: string, layer: number): boolean {
  const targets = config["target_modules"];
  if (typeof targets === "string") {
    const unsafe = unsafeTargetRegex(targets);
    if (unsafe !== undefined) {
      throw unsupported("target_modules", `regex not accepted (${unsafe}): ${targets.slice(0, 200)}`);
    }
    let pattern: RegExp;
    try {
      pattern = new RegExp(`^(?:${targets})$`);
    } catch (error) {
      throw new KoraError<SpecErrorCode>({
        code: "INVALID_ADAPTER_FILE",
        message: `adapter_config.json target_modules: not a regex this reader understands: ${targets}`,
        path: "target_modules",
        cause: error,
      });
    }
    return pattern.test(modulePath);
  }
  if (!Array.isArray(targets) || !targets.every((t) => typeof t === "string")) {
    throw unsupported("target_modules", "expected a list of module names or a regex string");
  }
  const found = targets.some((t) => modulePath === t || modulePath.endsWith(`.${t}`));
  const layers = config["layers_to_transform"];
  if (!found || layers === null || layers === undefined) return found;
  const list = typeof layers === "number" ? [layers] : layers;
  if (!Array.isArray(list))
    throw unsupported("layers_to_transform", "expected an integer or a list of integers");
  return list.includes(layer);
}

/**
 * Reads a peft LoRA `adapter_config.json` (already JSON-parsed) for an HF ViT of shape `backbone` into a
 * {@link LoraSpec}, resolving `target_modules` (suffix list or full-match regex) and `layers_to_transform`
 * against the real module names.
 *
 * @throws KoraError `INVALID_ADAPTER_FILE` for a non-LoRA config, per-module `rank_pattern`/`alpha_pattern`,
 * DoRA, a bias other than `"none"`, or targets that differ between blocks; `INVALID_SPEC` for invalid values.
 */
export function fromPeftConfig(config: unknown, backbone: BackboneShape): LoraSpec {
  if (config === null || typeof config !== "object" || Array.isArray(config)) {
    throw new KoraError<SpecErrorCode>({
      code: "INVALID_ADAPTER_FILE",
      message: "adapter_config.json must hold a JSON object",
    });
  }
  const c = config as Record<string, unknown>;
  if (c["peft_type"] !== "LORA")
    throw unsupported("peft_type", `expected "LORA", got ${shown(c["peft_type"])}`);
  for (const field of ["rank_pattern", "alpha_pattern"]) {
    const value = c[field];
    if (
      value !== undefined &&
      value !== null &&
      (typeof value !== "object" || Object.keys(value).length > 0)
    ) {
      throw unsupported(field, "per-module ranks/alphas are not supported; expected {}");
    }
  }
  if (c["use_dora"] === true) throw unsupported("use_dora", "DoRA adapters are not supported");
  if (c["bias"] !== undefined && c["bias"] !== "none")
    throw unsupported("bias", `expected "none", got ${shown(c["bias"])}`);
  if (c["fan_in_fan_out"] === true) throw unsupported("fan_in_fan_out", "not used by ViT's nn.Linear layers");

  let targets: TargetModule[] | null = null;
  const layers: number[] = [];
  for (let layer = 0; layer < backbone.depth; layer++) {
    const selected = TARGET_MODULES.filter((t) => selectsModule(c, hfModulePath(layer, t), layer));
    if (selected.length === 0) continue;
    if (targets !== null && selected.join() !== targets.join()) {
      throw unsupported(
        "target_modules",
        `block ${layer} adapts [${selected.join(", ")}] but an earlier block adapts [${targets.join(", ")}]; KoRA-TS needs the same targets in every adapted block`,
      );
    }
    targets = selected;
    layers.push(layer);
  }
  if (targets === null)
    throw unsupported("target_modules", "selects no query/key/value/output/fc1/fc2 module of a ViT");
  const init = c["init_lora_weights"];
  return parseAdapterSpec({
    method: "lora",
    rank: c["r"],
    alpha: c["lora_alpha"],
    dropout: c["lora_dropout"] ?? 0,
    targets,
    layers: layers.length === backbone.depth ? null : layers,
    rslora: c["use_rslora"] === true,
    init: init === "gaussian" ? "gaussian" : "kaiming",
  }) as LoraSpec;
}
