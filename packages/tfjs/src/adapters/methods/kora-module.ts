import type { KoraSpec } from "@kora/spec";
import type * as tf from "@tensorflow/tfjs";
import type { AdaptableModel } from "../../sites/adaptable-model";
import type { AttentionSite, MlpSite, Qkv } from "../../sites/block-sites";
import { type KoraBlockWeights, koraQkv, type Projection } from "../core/kora-math";
import { asMatrix, asVector, SeededDropout } from "../core/low-rank";
import { loraScaling } from "../core/scaling";
import { type AdapterModule, createAdapterVariables, variableOf } from "./adapter-module";
import { notMergeable } from "./not-mergeable";

/** KoRA on every adapted attention block, installed through the block's q/k/v hook. @internal */
export class KoraModule implements AdapterModule {
  readonly layout;
  readonly variables;
  readonly merged = false;
  private readonly blocks = new Map<AttentionSite, KoraBlockWeights>();
  private readonly scale: number;
  private readonly dropout: SeededDropout;

  constructor(
    readonly name: string,
    readonly spec: KoraSpec,
    model: AdaptableModel,
    seed: number,
  ) {
    const created = createAdapterVariables(spec, model.backboneShape, name, seed);
    this.layout = created.layout;
    this.variables = created.variables;
    this.scale = loraScaling(spec);
    this.dropout = new SeededDropout(spec.dropout, seed);
    const layers = new Set(this.layout.map((info) => info.layer));
    for (const site of model.attentionSites) {
      if (!layers.has(site.layer)) continue;
      this.blocks.set(site, this.blockWeights(site.layer));
    }
  }

  private blockWeights(layer: number): KoraBlockWeights {
    const prefix = `layers.${layer}.kora`;
    const get = (name: string) => variableOf(this.variables, `${prefix}.${name}`);
    const pair = (target: string) => ({
      a: asMatrix(get(`${target}.lora_A`)),
      b: asMatrix(get(`${target}.lora_B`)),
    });
    const projection = (name: string): Projection => ({
      weight: asMatrix(get(`composition.${name}.weight`)),
      bias: this.spec.composition.bias ? asVector(get(`composition.${name}.bias`)) : null,
    });
    const names = this.spec.composition.kind === "mlp" ? ["fc1", "fc2"] : ["query", "key", "value", "output"];
    const gate = this.spec.gate;
    return {
      query: pair("query"),
      key: pair("key"),
      value: pair("value"),
      composition: Object.fromEntries(names.map((n) => [n, projection(n)])),
      gate: gate.mode === "learnable" ? asVector(get("gate")) : gate.mode === "fixed" ? gate.init : null,
    };
  }

  linearDelta(): tf.Tensor2D | null {
    return null;
  }

  qkv(site: AttentionSite, x: tf.Tensor2D, qkv: Qkv, training: boolean): Qkv {
    const weights = this.blocks.get(site);
    if (weights === undefined) return qkv;
    return koraQkv(this.dropout.apply(x, training), qkv, weights, {
      scale: this.scale,
      composition: this.spec.composition,
      apply: this.spec.apply,
    });
  }

  feedForward(_site: MlpSite, _hidden: tf.Tensor2D, output: tf.Tensor2D): tf.Tensor2D {
    return output;
  }

  merge(): void {
    throw notMergeable(this.spec, this.name);
  }

  unmerge(): void {}

  dispose(): void {
    for (const variable of this.variables.values()) variable.dispose();
  }
}
