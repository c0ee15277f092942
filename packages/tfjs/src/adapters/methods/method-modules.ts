import type { AdapterMethod, AdapterSpec, AdapterTensorInfo, SpecOf } from "@kora/spec";
import type * as tf from "@tensorflow/tfjs";
import type { AdaptableModel } from "../../sites/adaptable-model";
import type { TensorInitialiser } from "../core/init";
import type { AdapterModule } from "./adapter-module";
import { FusionModule, initFusionTensor } from "./fusion-module";
import { GatedBottleneckModule, initGatedBottleneckTensor } from "./gated-bottleneck-module";
import { GatedLoraModule, initGatedLoraTensor } from "./gated-lora-module";
import { initKoraTensor, KoraModule } from "./kora-module";
import { initLoraTensor, LoraModule } from "./lora-module";

/** How one adapter method becomes tfjs computation: its module (site hooks) and its initialisation. @internal */
export interface MethodModule<S extends AdapterSpec> {
  /** Creates the method's variables and attaches it to the model's sites. */
  create(name: string, spec: S, model: AdaptableModel, seed: number): AdapterModule;
  /** The initial value of each of the method's tensors. */
  init: TensorInitialiser<S>;
}

/**
 * One {@link MethodModule} per adapter method of `@kora/spec`'s registry: a method missing here is a compile
 * error, so no method can reach `applyAdapters` without a module. @internal
 */
export const METHOD_MODULES: { readonly [M in AdapterMethod]: MethodModule<SpecOf<M>> } = {
  lora: { create: (...args) => new LoraModule(...args), init: initLoraTensor },
  kora: { create: (...args) => new KoraModule(...args), init: initKoraTensor },
  "adapter-fusion": { create: (...args) => new FusionModule(...args), init: initFusionTensor },
  "gated-bottleneck": {
    create: (...args) => new GatedBottleneckModule(...args),
    init: initGatedBottleneckTensor,
  },
  "gated-lora": { create: (...args) => new GatedLoraModule(...args), init: initGatedLoraTensor },
};

/** The module table entry of a spec's method, typed for that spec. @internal */
export function methodModule<S extends AdapterSpec>(spec: S): MethodModule<S> {
  // The mapped type guarantees the entry matches its key; TypeScript cannot correlate the two here.
  return METHOD_MODULES[spec.method] as unknown as MethodModule<S>;
}

/** Attaches an adapter of any registered method to a model. @internal */
export function createAdapterModule(
  name: string,
  spec: AdapterSpec,
  model: AdaptableModel,
  seed: number,
): AdapterModule {
  return methodModule(spec).create(name, spec, model, seed);
}

/** The initial value (tfjs layout) of one adapter tensor, as the spec's method initialises it. */
export function initialAdapterTensor(
  spec: AdapterSpec,
  info: AdapterTensorInfo,
  layout: ReadonlyMap<string, AdapterTensorInfo>,
  seed: number,
): tf.Tensor {
  return methodModule(spec).init(spec, info, layout, seed);
}
