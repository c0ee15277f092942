import { compositionBasis, type KoraSpec } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import type { AdaptableModel } from "../../sites/adaptable-model";
import type { AttentionSite, MlpSite, Qkv } from "../../sites/block-sites";
import { activation64, fitBasisCoefficients } from "../core/basis-fit";
import { kaimingUniform, linearDefault, type TensorInitialiser, tfjsShape } from "../core/init";
import { type Gate, type KoraBlockWeights, koraQkv, type Projection } from "../core/kora-math";
import { asMatrix, asVector, SeededDropout } from "../core/low-rank";
import { loraScaling } from "../core/scaling";
import { type AdapterModule, createAdapterVariables, variableOf } from "./adapter-module";
import { notMergeable } from "./not-mergeable";

/**
 * KoRA's initialisation: `lora_A` Kaiming-uniform as LoRA; `lora_B` `N(0, bInitStd²)` (not zero: the gate is 0,
 * so zero B would leave no gradient path); composition weights and biases as PyTorch's `nn.Linear`; every gate
 * (one, or three with `apply: "composed-qkv"`) `gate.init` (0 by default), which makes the adapted model equal the
 * base model. A learnable basis starts as the fixed activation it replaces: every unit's coefficients are the
 * least-squares fit of `composition.activation` on the basis range (of the activation minus SiLU when a
 * B-spline basis has its SiLU base, whose weights start at 1), so at init the composition computes what it
 * computed with `basis: "fixed"`, up to the fit's error on the range.
 */
export const initKoraTensor: TensorInitialiser<KoraSpec> = (spec, info, layout, seed) => {
  if (info.group === "lora_A") return kaimingUniform(info.shape, seed);
  if (info.group === "lora_B")
    return tf.randomNormal(tfjsShape(info.shape), 0, spec.bInitStd, "float32", seed);
  if (info.group === "gate") return tf.fill(tfjsShape(info.shape), spec.gate.init);
  if (info.name.endsWith(".basis.base")) return tf.ones(tfjsShape(info.shape));
  if (info.name.endsWith(".basis.coefficients")) return initialBasisCoefficients(spec, info.shape);
  return linearDefault(info, layout, seed);
};

/** The fitted coefficients of {@link initKoraTensor}, the same for every unit, tfjs layout `[K, h]`. */
function initialBasisCoefficients(spec: KoraSpec, layoutShape: readonly number[]): tf.Tensor {
  const basis = compositionBasis(spec.composition);
  if (basis.kind === "fixed") throw new Error("internal: basis coefficients of a fixed basis");
  const activation = spec.composition.activation;
  const withBase = basis.kind === "bspline" && basis.base === "silu";
  const fit = fitBasisCoefficients(basis, (z) =>
    withBase ? activation64(activation, z) - activation64("silu", z) : activation64(activation, z),
  );
  const [units, count] = layoutShape as [number, number];
  const data = new Float32Array(count * units);
  for (let k = 0; k < count; k++) data.fill(fit[k] as number, k * units, (k + 1) * units);
  return tf.tensor2d(data, [count, units]);
}

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
    const created = createAdapterVariables(spec, model.backboneShape, name, seed, initKoraTensor);
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
    const gateAt = (name: string): Gate =>
      gate.mode === "learnable" ? asVector(get(name)) : gate.mode === "fixed" ? gate.init : null;
    const basis = compositionBasis(this.spec.composition);
    const weights: KoraBlockWeights = {
      query: pair("query"),
      key: pair("key"),
      value: pair("value"),
      composition: Object.fromEntries(names.map((n) => [n, projection(n)])),
      gate: this.spec.apply === "composed-qkv" ? null : gateAt("gate"),
    };
    if (basis.kind !== "fixed") {
      weights.basis = {
        coefficients: asMatrix(get("composition.basis.coefficients")),
        base:
          basis.kind === "bspline" && basis.base === "silu" ? asVector(get("composition.basis.base")) : null,
      };
    }
    if (this.spec.apply === "composed-qkv") {
      weights.gates = { query: gateAt("query.gate"), key: gateAt("key.gate"), value: gateAt("value.gate") };
    }
    return weights;
  }

  linearDelta(): tf.Tensor2D | null {
    return null;
  }

  qkv(site: AttentionSite, x: tf.Tensor2D, qkv: Qkv, training: boolean): Qkv {
    const weights = this.blocks.get(site);
    if (weights === undefined) return qkv;
    return koraQkv(this.dropout.apply(x, training, `${this.name}/${site.layer}.qkv`), qkv, weights, {
      scale: this.scale,
      composition: this.spec.composition,
      apply: this.spec.apply,
    });
  }

  feedForward(_site: MlpSite, _hidden: tf.Tensor2D, output: tf.Tensor2D): tf.Tensor2D {
    return output;
  }

  merge(): void {
    const basis = compositionBasis(this.spec.composition);
    const nonlinearity =
      basis.kind === "fixed" ? this.spec.composition.activation : `learnable ${basis.kind}`;
    throw notMergeable(
      this.spec,
      this.name,
      this.spec.composition.kind === "mlp"
        ? `KoRA's composed delta g·(σ([δ_q; δ_k; δ_v]·W₁ + b₁)·W₂ + b₂) passes the three deltas through the ${nonlinearity} composition MLP, so it is not a linear function of the block input and no kernel W' gives x·W' = x·W_v + g·δ_c(x)`
        : "KoRA's attention composition mixes the three deltas with input-dependent softmax weights, so its delta is not a linear function of the block input and no kernel W' reproduces it",
    );
  }

  unmerge(): void {}

  dispose(): void {
    for (const variable of this.variables.values()) variable.dispose();
  }
}
