import type { AdapterFusionSpec } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import type { AdaptableModel } from "../../sites/adaptable-model";
import type { AttentionSite, MlpSite, Qkv } from "../../sites/block-sites";
import { type FusionBlockWeights, fuseAdapters } from "../core/fusion-math";
import { kaimingUniform, type TensorInitialiser, tfjsShape } from "../core/init";
import type { Projection } from "../core/kora-math";
import { asMatrix, asVector } from "../core/low-rank";
import { type AdapterModule, createAdapterVariables, variableOf } from "./adapter-module";
import { notMergeable } from "./not-mergeable";

/**
 * AdapterFusion's initialisation: adapter `down` as `nn.Linear`, `up` weight and both biases zero (every adapter
 * starts as the identity `h + 0`); fusion query/key `N(0, 0.02²)` with zero bias (AdapterHub); the dynamic value
 * matrix identity with zero bias. The adapted model equals the base model.
 */
export const initFusionTensor: TensorInitialiser<AdapterFusionSpec> = (_spec, info, _layout, seed) => {
  const shape = tfjsShape(info.shape);
  if (info.name.endsWith(".down.weight")) return kaimingUniform(info.shape, seed);
  if (info.name.endsWith(".value.weight")) return tf.eye(shape[0] as number);
  if (info.name.endsWith(".query.weight") || info.name.endsWith(".key.weight")) {
    return tf.randomNormal(shape, 0, 0.02, "float32", seed);
  }
  return tf.zeros(shape);
};

/** AdapterFusion after the FFN of every adapted block, installed through the block's feed-forward hook. @internal */
export class FusionModule implements AdapterModule {
  readonly layout;
  readonly variables;
  readonly merged = false;
  private readonly blocks = new Map<MlpSite, FusionBlockWeights>();

  constructor(
    readonly name: string,
    readonly spec: AdapterFusionSpec,
    model: AdaptableModel,
    seed: number,
  ) {
    const created = createAdapterVariables(spec, model.backboneShape, name, seed, initFusionTensor);
    this.layout = created.layout;
    this.variables = created.variables;
    const layers = new Set(this.layout.map((info) => info.layer));
    for (const site of model.mlpSites) {
      if (layers.has(site.layer)) this.blocks.set(site, this.blockWeights(site.layer));
    }
  }

  private blockWeights(layer: number): FusionBlockWeights {
    const projection = (prefix: string): Projection => ({
      weight: asMatrix(variableOf(this.variables, `layers.${layer}.${prefix}.weight`)),
      bias: asVector(variableOf(this.variables, `layers.${layer}.${prefix}.bias`)),
    });
    return {
      adapters: this.spec.adapters.map((name) => ({
        down: projection(`adapters.${name}.down`),
        up: projection(`adapters.${name}.up`),
      })),
      query: projection("fusion.query"),
      key: projection("fusion.key"),
      value: this.spec.fusion.variant === "dynamic" ? projection("fusion.value") : null,
    };
  }

  linearDelta(): tf.Tensor2D | null {
    return null;
  }

  qkv(_site: AttentionSite, _x: tf.Tensor2D, qkv: Qkv): Qkv {
    return qkv;
  }

  feedForward(site: MlpSite, hidden: tf.Tensor2D, output: tf.Tensor2D): tf.Tensor2D {
    const weights = this.blocks.get(site);
    return weights === undefined ? output : fuseAdapters(hidden, output, weights, this.spec.activation);
  }

  merge(): void {
    throw notMergeable(
      this.spec,
      this.name,
      "AdapterFusion adds nonlinear bottleneck adapters after the FFN and fuses them with a per-token softmax, so there is no linear weight to fold them into",
    );
  }

  unmerge(): void {}

  dispose(): void {
    for (const variable of this.variables.values()) variable.dispose();
  }
}
