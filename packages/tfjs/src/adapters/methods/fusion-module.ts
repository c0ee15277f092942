import type { AdapterFusionSpec } from "@kora/spec";
import type * as tf from "@tensorflow/tfjs";
import type { AdaptableModel } from "../../sites/adaptable-model";
import type { AttentionSite, MlpSite, Qkv } from "../../sites/block-sites";
import { type FusionBlockWeights, fuseAdapters } from "../core/fusion-math";
import type { Projection } from "../core/kora-math";
import { asMatrix, asVector } from "../core/low-rank";
import { type AdapterModule, createAdapterVariables, variableOf } from "./adapter-module";
import { notMergeable } from "./not-mergeable";

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
    const created = createAdapterVariables(spec, model.backboneShape, name, seed);
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
    throw notMergeable(this.spec, this.name);
  }

  unmerge(): void {}

  dispose(): void {
    for (const variable of this.variables.values()) variable.dispose();
  }
}
