import type { GatedBottleneckSpec } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import { linear } from "../../ops/linear";
import type { AdaptableModel } from "../../sites/adaptable-model";
import type { AttentionSite, MlpSite, Qkv } from "../../sites/block-sites";
import { applyActivation } from "../core/activation";
import { linearDefault, type TensorInitialiser, tfjsShape } from "../core/init";
import type { Projection } from "../core/kora-math";
import { asMatrix, asVector, SeededDropout } from "../core/low-rank";
import { type AdapterModule, createAdapterVariables, variableOf } from "./adapter-module";
import { notMergeable } from "./not-mergeable";

/**
 * The gated bottleneck adapter's initialisation, KoRA's composition init: both projections as PyTorch's
 * `nn.Linear` (weights and biases `U(±1/√fan_in)`, non-zero) and the gate `gate.init` (0 by default). With g = 0
 * the adapter is the identity at init; because W₂ and b₂ are not zero the gate's gradient is not zero, so the
 * first step moves g and the second moves both projections (zero W₂ and b₂ as well as g = 0 would leave every
 * gradient zero forever).
 */
export const initGatedBottleneckTensor: TensorInitialiser<GatedBottleneckSpec> = (
  spec,
  info,
  layout,
  seed,
) => {
  if (info.group === "gate") return tf.fill(tfjsShape(info.shape), spec.gate.init);
  return linearDefault(info, layout, seed);
};

/** The tensors of the gated bottleneck adapter on one block (tfjs layout). */
interface BottleneckBlock {
  down: Projection;
  up: Projection;
  gate: tf.Tensor1D | number | null;
}

/**
 * The gated bottleneck adapter on every adapted attention block, installed through the block's q/k/v hook:
 * `v' = v + g·(σ(x·W₁ + b₁)·W₂ + b₂)` with `x` the block's attention input (dropped out when training). @internal
 */
export class GatedBottleneckModule implements AdapterModule {
  readonly layout;
  readonly variables;
  readonly merged = false;
  private readonly blocks = new Map<AttentionSite, BottleneckBlock>();
  private readonly dropout: SeededDropout;

  constructor(
    readonly name: string,
    readonly spec: GatedBottleneckSpec,
    model: AdaptableModel,
    seed: number,
  ) {
    const created = createAdapterVariables(spec, model.backboneShape, name, seed, initGatedBottleneckTensor);
    this.layout = created.layout;
    this.variables = created.variables;
    this.dropout = new SeededDropout(spec.dropout, seed);
    const layers = new Set(this.layout.map((info) => info.layer));
    for (const site of model.attentionSites) {
      if (layers.has(site.layer)) this.blocks.set(site, this.blockWeights(site.layer));
    }
  }

  private blockWeights(layer: number): BottleneckBlock {
    const get = (name: string) => variableOf(this.variables, `layers.${layer}.bottleneck.${name}`);
    const projection = (name: string): Projection => ({
      weight: asMatrix(get(`${name}.weight`)),
      bias: this.spec.bias ? asVector(get(`${name}.bias`)) : null,
    });
    const gate = this.spec.gate;
    return {
      down: projection("down"),
      up: projection("up"),
      gate: gate.mode === "learnable" ? asVector(get("gate")) : gate.mode === "fixed" ? gate.init : null,
    };
  }

  linearDelta(): tf.Tensor2D | null {
    return null;
  }

  qkv(site: AttentionSite, x: tf.Tensor2D, qkv: Qkv, training: boolean): Qkv {
    const block = this.blocks.get(site);
    if (block === undefined) return qkv;
    return tf.tidy(() => {
      const input = this.dropout.apply(x, training, `${this.name}/${site.layer}.qkv`);
      const hidden = applyActivation(linear(input, block.down.weight, block.down.bias), this.spec.activation);
      const delta = linear(hidden, block.up.weight, block.up.bias);
      const gated = block.gate === null ? delta : (tf.mul(delta, block.gate) as tf.Tensor2D);
      return { q: qkv.q, k: qkv.k, v: tf.add(qkv.v, gated) as tf.Tensor2D };
    });
  }

  feedForward(_site: MlpSite, _hidden: tf.Tensor2D, output: tf.Tensor2D): tf.Tensor2D {
    return output;
  }

  merge(): void {
    throw notMergeable(
      this.spec,
      this.name,
      this.spec.activation === "identity"
        ? "with the identity activation the gated bottleneck's delta is affine, but merging is implemented for low-rank updates only"
        : `the gated bottleneck's delta g·(σ(x·W₁ + b₁)·W₂ + b₂) passes the block input through the ${this.spec.activation} activation, so it is not a linear function of the block input and no kernel W' gives x·W' = x·W_v + g·δ(x)`,
    );
  }

  unmerge(): void {}

  dispose(): void {
    for (const variable of this.variables.values()) variable.dispose();
  }
}
