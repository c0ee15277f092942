import { KoraError, type KoraSpec, type LoraSpec, parseAdapterSpec } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import type { TfjsErrorCode } from "../../errors";
import { KoraValueDense } from "./kora-dense";
import { registerAdapterLayers } from "./register";

type Json = { [key: string]: unknown };

/** Options shared by {@link applyLoraToLayersModel} and {@link applyKoraToLayersModel}. */
export interface LayersAdapterOptions {
  /**
   * Layers that stay trainable besides the adapter weights (e.g. a new classifier): a RegExp tested against each
   * layer name, or a string that must match a whole name. Default: none (everything else is frozen).
   */
  trainableLayers?: RegExp | string;
  /** Seed of the adapters' initialisation and dropout masks. Default 0. */
  seed?: number;
}

/** Options of {@link applyLoraToLayersModel}. */
export interface LoraLayersOptions
  extends LayersAdapterOptions,
    Partial<Pick<LoraSpec, "rank" | "alpha" | "dropout" | "rslora" | "init">> {
  /**
   * Dense layers that get LoRA: a RegExp tested against each Dense layer's name, or a string that must match a
   * whole name (peft's regex `target_modules` semantics), e.g. `"block_\\d+_(query|value)"`.
   */
  layers: RegExp | string;
}

/** Options of {@link applyKoraToLayersModel}. */
export interface KoraLayersOptions
  extends LayersAdapterOptions,
    Partial<Pick<KoraSpec, "rank" | "alpha" | "dropout" | "rslora" | "bInitStd" | "apply">> {
  /** Name of the query Dense layer. */
  query: string;
  /** Name of the key Dense layer. */
  key: string;
  /** Name of the value Dense layer (replaced by a {@link KoraValueDense}). */
  value: string;
  /** The CompositionBlock (defaults as `@kora/spec`). */
  composition?: Partial<KoraSpec["composition"]>;
  /** The gate (defaults as `@kora/spec`). */
  gate?: Partial<KoraSpec["gate"]>;
}

function matcher(pattern: RegExp | string | undefined): (name: string) => boolean {
  if (pattern === undefined) return () => false;
  const regex = typeof pattern === "string" ? new RegExp(`^(?:${pattern})$`) : pattern;
  return (name) => {
    regex.lastIndex = 0;
    return regex.test(name);
  };
}

function topologyLayers(topology: Json): Json[] {
  const config = topology["config"] as Json | undefined;
  const layers = config?.["layers"];
  if (!Array.isArray(layers)) {
    throw new KoraError<TfjsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: "the model's topology has no layer list",
    });
  }
  return layers as Json[];
}

function layerName(entry: Json): string {
  return String((entry["config"] as Json)["name"]);
}

/** Rebuilds `model` from an edited topology and copies every original weight into the new layers. */
async function rebuild(
  model: tf.LayersModel,
  topology: Json,
  trainable: (name: string) => boolean,
): Promise<tf.LayersModel> {
  registerAdapterLayers();
  const rebuilt = await tf.models.modelFromJSON({
    modelTopology: topology as tf.io.ModelArtifacts["modelTopology"],
  } as tf.io.ModelJSON);
  for (const layer of rebuilt.layers) {
    const original = model.getLayer(layer.name);
    const values = original.getWeights();
    if (layer instanceof KoraValueDense || layer.getClassName() === "KoraLoraDense") {
      // The frozen base projection takes the original kernel (and bias); the adapter weights keep their init.
      // tfjs orders a layer's weights trainable first, so match by name, not position. (getWeights returns the
      // variables themselves: nothing here may be disposed.)
      const current = layer.getWeights();
      const byName: Record<string, tf.Tensor | undefined> = { kernel: values[0], bias: values[1] };
      layer.setWeights(
        layer.weights.map(
          (w, i) => byName[w.originalName.split("/").pop() ?? ""] ?? (current[i] as tf.Tensor),
        ),
      );
      layer.trainable = true;
    } else {
      layer.setWeights(values);
      layer.trainable = trainable(layer.name);
    }
  }
  return rebuilt;
}

function denseEntries(layers: Json[]): Map<string, Json> {
  return new Map(layers.filter((l) => l["class_name"] === "Dense").map((l) => [layerName(l), l]));
}

/**
 * Returns a copy of a user's `tf.LayersModel` in which every Dense layer whose name matches `options.layers` is a
 * {@link LoraDense} (frozen kernel/bias copied from the original, trainable `lora_A`/`lora_B`), every other
 * weight is copied and frozen (except `trainableLayers`). The copy serialises with `model.save` and loads with
 * `tf.loadLayersModel` (the layer class is registered with `tf.serialization`). The original model is untouched.
 *
 * @throws KoraError `INVALID_ARGUMENT` when no Dense layer matches (the message lists the Dense layers).
 */
export async function applyLoraToLayersModel(
  model: tf.LayersModel,
  options: LoraLayersOptions,
): Promise<tf.LayersModel> {
  const topology = model.toJSON(null, false) as unknown as Json;
  const layers = topologyLayers(topology);
  const dense = denseEntries(layers);
  const selected = matcher(options.layers);
  const targets = [...dense.keys()].filter(selected);
  if (targets.length === 0) {
    throw new KoraError<TfjsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `no Dense layer matches ${String(options.layers)} (Dense layers: ${[...dense.keys()].join(", ") || "none"})`,
      path: "layers",
    });
  }
  for (const [index, name] of targets.entries()) {
    const entry = dense.get(name) as Json;
    entry["class_name"] = "KoraLoraDense";
    entry["config"] = {
      ...(entry["config"] as Json),
      rank: options.rank ?? 8,
      alpha: options.alpha ?? 8,
      dropout: options.dropout ?? 0,
      rslora: options.rslora ?? false,
      init: options.init ?? "kaiming",
      seed: (options.seed ?? 0) * 1009 + index,
    };
  }
  return rebuild(model, topology, matcher(options.trainableLayers));
}

function inboundOf(entry: Json): string {
  return JSON.stringify(entry["inbound_nodes"] ?? null);
}

/**
 * Returns a copy of a user's functional `tf.LayersModel` with KoRA on one attention: the query, key and value
 * Dense layers named in `options` must read the same input and map D → D; the value layer becomes a
 * {@link KoraValueDense} computing `x·W_v + b_v + g·δ_c(x)`, which holds the three low-rank deltas, the
 * CompositionBlock and the gate. Everything else is copied and frozen (except `trainableLayers`). Call it once per
 * attention block (on the returned model) to adapt several blocks.
 *
 * @throws KoraError `INVALID_ARGUMENT` for missing or non-Dense layers, different inputs, non-square projections,
 * `apply` other than `"value"` (the q/k updates would need weights shared across three layers, which tfjs layers
 * cannot serialise; use the adapter-site API for them), or a learnable `composition.basis`.
 */
export async function applyKoraToLayersModel(
  model: tf.LayersModel,
  options: KoraLayersOptions,
): Promise<tf.LayersModel> {
  if (options.apply !== undefined && options.apply !== "value") {
    throw new KoraError<TfjsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `apply: "${options.apply}" is not supported on a tf.LayersModel: the updates of q and k would need KoRA weights shared by the query, key and value layers, which tfjs layer serialisation cannot express; use apply "value" here or the adapter-site API (applyAdapters)`,
      path: "apply",
    });
  }
  const basisKind = options.composition?.basis?.kind;
  if (basisKind !== undefined && basisKind !== "fixed") {
    throw new KoraError<TfjsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `composition.basis "${basisKind}" is not supported on a tf.LayersModel (KoraValueDense serialises a fixed activation only); use the adapter-site API (applyAdapters) for a learnable basis`,
      path: "composition.basis",
    });
  }
  const fields = {
    method: "kora",
    rank: options.rank,
    alpha: options.alpha,
    dropout: options.dropout,
    rslora: options.rslora,
    bInitStd: options.bInitStd,
    composition: options.composition,
    gate: options.gate,
    apply: "value",
  };
  const spec = parseAdapterSpec(
    Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)),
  ) as KoraSpec;
  const topology = model.toJSON(null, false) as unknown as Json;
  if (topology["class_name"] === "Sequential") {
    throw new KoraError<TfjsErrorCode>({
      code: "INVALID_ARGUMENT",
      message:
        "KoRA needs a functional model in which the query, key and value Dense layers read the same input; a Sequential model cannot have them",
    });
  }
  const layers = topologyLayers(topology);
  const dense = denseEntries(layers);
  const roles = { query: options.query, key: options.key, value: options.value };
  const entries = Object.entries(roles).map(([role, name]) => {
    const entry = dense.get(name);
    if (entry === undefined) {
      throw new KoraError<TfjsErrorCode>({
        code: "INVALID_ARGUMENT",
        message: `${role} layer "${name}" is not a Dense layer of the model (Dense layers: ${[...dense.keys()].join(", ") || "none"})`,
        path: role,
      });
    }
    return entry;
  });
  const [queryEntry, keyEntry, valueEntry] = entries as [Json, Json, Json];
  if (inboundOf(queryEntry) !== inboundOf(valueEntry) || inboundOf(keyEntry) !== inboundOf(valueEntry)) {
    throw new KoraError<TfjsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `the query, key and value layers (${options.query}, ${options.key}, ${options.value}) must read the same input tensor`,
    });
  }
  const units = (valueEntry["config"] as Json)["units"] as number;
  const width = (model.getLayer(options.value).input as tf.SymbolicTensor).shape.at(-1);
  for (const entry of [queryEntry, keyEntry]) {
    if ((entry["config"] as Json)["units"] !== units || width !== units) {
      throw new KoraError<TfjsErrorCode>({
        code: "INVALID_ARGUMENT",
        message: `KoRA needs query, key and value projections D → D of one width; got input ${String(width)} and units ${(queryEntry["config"] as Json)["units"]}, ${(keyEntry["config"] as Json)["units"]}, ${units}`,
      });
    }
  }
  valueEntry["class_name"] = "KoraValueDense";
  valueEntry["config"] = {
    ...(valueEntry["config"] as Json),
    rank: spec.rank,
    alpha: spec.alpha,
    dropout: spec.dropout,
    rslora: spec.rslora,
    b_init_std: spec.bInitStd,
    composition_kind: spec.composition.kind,
    composition_hidden: spec.composition.hidden,
    composition_activation: spec.composition.activation,
    composition_bias: spec.composition.bias,
    gate_per: spec.gate.per,
    gate_init: spec.gate.init,
    gate_mode: spec.gate.mode,
    seed: options.seed ?? 0,
  };
  return rebuild(model, topology, matcher(options.trainableLayers));
}
